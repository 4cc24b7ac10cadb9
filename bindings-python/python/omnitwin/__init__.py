"""omnitwin: touchpoints from every channel resolved into one profile per real customer.

>>> import omnitwin as ot
>>> engine = ot.Engine()
>>> engine.ingest([
...     {"touchpoint_id": "web-1", "email": "An.Nguyen@Gmail.com"},
...     {"touchpoint_id": "pos-1", "email": "annguyen@gmail.com", "phone": "0912 345 678"},
...     {"touchpoint_id": "zalo-1", "phone": "+84 912 345 678"},
... ])["accepted"]
3
>>> engine.resolve()["profiles"]
1
>>> engine.lookup(phone="0912.345.678")["touchpoint_count"]
3

Every call runs in the Rust core with the interpreter lock released; tables go in and come out
through the Arrow C stream interface (polars DataFrames out; polars, pandas >= 2.2, pyarrow or
DuckDB tables in).
"""

from ._omnitwin import (
    ArrowStream,
    ConfigError,
    Engine,
    InternalError,
    InvalidInputError,
    IoError,
    Linker,
    NotFoundError,
    OmnitwinError,
    SchemaError,
    __version__,
    explanation_html,
    normalize_address,
    normalize_date_of_birth,
    normalize_email,
    normalize_gender,
    normalize_name,
    normalize_phone,
    pair_explanation_html,
    profile_html,
    report_html,
    resolve,
)
from ._display import Explanation, PairExplanation, Profile, Report

__all__ = [
    "ArrowStream",
    "ConfigError",
    "Engine",
    "Explanation",
    "InternalError",
    "InvalidInputError",
    "IoError",
    "Linker",
    "NotFoundError",
    "OmnitwinError",
    "SchemaError",
    "Profile",
    "__version__",
    "explanation_html",
    "normalize_address",
    "normalize_date_of_birth",
    "normalize_email",
    "normalize_gender",
    "normalize_name",
    "normalize_phone",
    "pair_explanation_html",
    "profile_html",
    "Report",
    "report_html",
    "resolve",
]
