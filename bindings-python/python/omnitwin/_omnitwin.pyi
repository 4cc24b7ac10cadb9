"""Type stubs of the native module; `omnitwin` re-exports everything here."""

import os
from typing import Any, Literal, Optional, Protocol, Union, final

import polars

from omnitwin._display import Explanation, Profile

__all__ = [
    "ArrowStream",
    "ConfigError",
    "Engine",
    "InternalError",
    "InvalidInputError",
    "IoError",
    "NotFoundError",
    "OmnitwinError",
    "SchemaError",
    "__version__",
    "normalize_address",
    "normalize_date_of_birth",
    "normalize_email",
    "normalize_gender",
    "normalize_name",
    "normalize_phone",
    "resolve",
    "profile_html",
    "explanation_html",
]

__version__: str

class _ArrowStreamExporter(Protocol):
    def __arrow_c_stream__(self, requested_schema: Any = ...) -> Any: ...

#: What `ingest` and `resolve` take: a table with the Arrow PyCapsule stream interface
#: (polars, pandas >= 2.2, pyarrow, DuckDB), a file path (.csv, .parquet, .jsonl) or a list of
#: dicts, one per touchpoint.
_TouchpointData = Union[_ArrowStreamExporter, str, os.PathLike[str], list[dict[str, Any]]]

class OmnitwinError(Exception):
    """The base class of every error omnitwin raises."""

    kind: str
    row: Optional[int]
    column: Optional[str]

class InvalidInputError(OmnitwinError):
    """A row or field of the input is invalid; `row` (1-based) and `column` say where."""

class SchemaError(OmnitwinError):
    """The input's shape (columns, types, emptiness, encoding) does not fit the touchpoint schema."""

class ConfigError(OmnitwinError):
    """The configuration (or a settings or model file) is invalid."""

class NotFoundError(OmnitwinError):
    """An id (touchpoint, profile, record) the engine does not hold."""

class IoError(OmnitwinError):
    """Reading or writing a file failed."""

class InternalError(OmnitwinError):
    """A bug in omnitwin (a Rust panic, caught before it reached Python); please report it."""

@final
class ArrowStream:
    """A table handed to Python through the Arrow PyCapsule stream interface."""

    def __arrow_c_stream__(self, requested_schema: Optional[Any] = None) -> Any: ...

@final
class Engine:
    """The omnitwin engine: holds touchpoints and resolves them into profiles."""

    def __new__(cls, config: Optional[dict[str, Any]] = None, progress: bool = False) -> "Engine": ...
    @staticmethod
    def from_json(path: Union[str, os.PathLike[str]], progress: bool = False) -> "Engine": ...
    def ingest(self, data: _TouchpointData, on_error: Literal["fail", "skip"] = "fail") -> dict[str, Any]: ...
    def resolve(self) -> dict[str, Any]: ...
    def assignments(self) -> polars.DataFrame: ...
    def profiles(self) -> polars.DataFrame: ...
    def profile(self, profile_id: str) -> Optional[Profile]: ...
    def profile_of(self, touchpoint_id: str) -> Optional[Profile]: ...
    def lookup(self, scope: Optional[str] = None, **identifier: str) -> Optional[Profile]: ...
    def explain(self, touchpoint_a: str, touchpoint_b: str) -> Explanation: ...
    def touchpoint(self, touchpoint_id: str) -> Optional[dict[str, Any]]: ...
    def model(self) -> Optional[dict[str, Any]]: ...
    def set_model(self, model: dict[str, Any]) -> None: ...
    def config(self) -> dict[str, Any]: ...
    def identifier_kinds(self) -> list[str]: ...
    def write_profiles(self, path: Union[str, os.PathLike[str]], format: Literal["parquet", "csv"] = "parquet") -> None: ...
    def __len__(self) -> int: ...

def resolve(data: _TouchpointData, config: Optional[dict[str, Any]] = None) -> polars.DataFrame: ...
def normalize_email(text: str) -> Optional[dict[str, Any]]: ...
def normalize_phone(text: str, region: str = "VN") -> Optional[dict[str, Any]]: ...
def normalize_name(text: str) -> Optional[dict[str, Any]]: ...
def normalize_address(text: str) -> Optional[str]: ...
def normalize_date_of_birth(text: str) -> Optional[str]: ...
def normalize_gender(text: str) -> Optional[str]: ...
def profile_html(profile: dict[str, Any]) -> str: ...
def explanation_html(explanation: dict[str, Any]) -> str: ...
