"""Calls as a user writes them, checked by `mypy --strict` in the test command (not run by
pytest): the stubs must accept real usage and type its results."""

import polars as pl

import omnitwin as ot

engine = ot.Engine({"default_region": "VN", "matching": {"threshold": 0.97}})
report = engine.ingest([{"touchpoint_id": "a", "email": "an@gmail.com"}], on_error="skip")
accepted: int = report["accepted"]
assignments: pl.DataFrame = engine.assignments()
profiles: pl.DataFrame = engine.profiles()
profile = engine.lookup(email="An@Gmail.com")
scoped = engine.lookup(scope="eshop", customer_id="C-17")
why = engine.explain("a", "a")
model = engine.model()
if model is not None:
    engine.set_model(model)
count: int = len(engine)
kinds: list[str] = engine.identifier_kinds()
shortcut: pl.DataFrame = ot.resolve(assignments, config={"matching": {"enabled": False}})
phone = ot.normalize_phone("0912 345 678", region="VN")
try:
    ot.Engine.from_json("config.json")
except ot.OmnitwinError as error:
    where: tuple[int | None, str | None] = (error.row, error.column)

linker = ot.Linker({"comparisons": [], "blocking_rules": []}, assignments, "b.csv")
training: dict[str, object] = linker.train()
pairs: pl.DataFrame = linker.predict()
clusters: pl.DataFrame = linker.cluster(pairs)
waterfall: str = linker.explain("a", "b")._repr_html_()
found = engine.profile_of("a")
card: str = found._repr_html_() if found is not None else ""
