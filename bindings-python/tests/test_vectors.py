"""The shared test vectors in `tests/vectors/` (the same files the Rust and Node suites run):
every language must give exactly the same results."""

import json
import time
from pathlib import Path

import pytest

import omnitwin as ot

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"
RESOLVE = sorted((VECTORS / "resolve").glob("*.json"))
LIVE = sorted((VECTORS / "live").glob("*.json"))
TWIN = sorted((VECTORS / "twin").glob("*.json"))
WHAT_IF = sorted((VECTORS / "what_if").glob("*.json"))


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


NORMALIZE = load(VECTORS / "normalize.json")


@pytest.mark.parametrize("case", NORMALIZE["email"], ids=lambda c: c["input"])
def test_email(case):
    assert ot.normalize_email(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", NORMALIZE["phone"], ids=lambda c: f'{c["region"]}:{c["input"]}')
def test_phone(case):
    assert ot.normalize_phone(case["input"], case["region"]) == case["expected"]


@pytest.mark.parametrize("case", NORMALIZE["name"], ids=lambda c: c["input"])
def test_name(case):
    assert ot.normalize_name(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", NORMALIZE["address"], ids=lambda c: c["input"])
def test_address(case):
    assert ot.normalize_address(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", NORMALIZE["date_of_birth"], ids=lambda c: c["input"])
def test_date_of_birth(case):
    assert ot.normalize_date_of_birth(case["input"]) == case["expected"]


@pytest.mark.parametrize("case", NORMALIZE["gender"], ids=lambda c: c["input"])
def test_gender(case):
    assert ot.normalize_gender(case["input"]) == case["expected"]


def test_every_vector_file_is_run():
    assert len(RESOLVE) >= 3
    assert len(LIVE) >= 1
    assert len(TWIN) >= 1
    assert len(ROWS) >= 1
    assert sum(len(NORMALIZE[k]) for k in NORMALIZE if isinstance(NORMALIZE[k], list)) >= 30


@pytest.mark.parametrize("path", RESOLVE, ids=lambda p: p.stem)
def test_resolve_vector(path):
    vector = load(path)
    engine = ot.Engine(vector["config"])
    if vector.get("model") is not None:
        engine.set_model(vector["model"])
    # Touchpoints as dicts, one per row, exactly as the vector gives them.
    engine.ingest(vector["touchpoints"])
    expected = vector["expected"]

    groups = {}
    for row in engine.assignments().iter_rows(named=True):
        groups.setdefault(row["profile_id"], []).append(row["touchpoint_id"])
    got = sorted(sorted(g) for g in groups.values())
    assert got == sorted(sorted(g) for g in expected["groups"])

    report = engine.resolve()
    for field, value in expected["report"].items():
        assert report[field] == value, f"report.{field}"
    for field, value in expected["links"].items():
        assert report["links"][field] == value, f"report.links.{field}"
    for tp, attributes in expected["attributes"].items():
        profile = engine.profile_of(tp)
        for name, value in attributes.items():
            assert profile["attributes"][name]["value"] == value, f"{tp}.{name}"
    for case in expected["explain"]:
        why = engine.explain(case["a"], case["b"])
        assert why["same_profile"] == case["same_profile"], case
        assert len(why["path"]) == case["path_length"], case


@pytest.mark.parametrize("path", LIVE, ids=lambda p: p.stem)
def test_live_vector(path):
    vector = load(path)
    engine = ot.Engine(vector["config"])
    if vector.get("model") is not None:
        engine.set_model(vector["model"])
    times = []  # with history questions: the time after each step, before the first at 0
    for i, step in enumerate(vector["steps"], start=1):
        assert engine.ingest_one(step["touchpoint"]) == step["expected"], f"step {i}"
        if "history" in vector:
            at = engine.acknowledged_at(step["touchpoint"]["touchpoint_id"])
            times += [at - 1, at] if not times else [at]
            time.sleep(0.002)
    assert engine.changes() == vector["expected_feed"]
    assert engine.changes(len(vector["expected_feed"]) - 1) == vector["expected_feed"][-1:]
    for query in vector.get("history", []):
        at = times[query["after_step"]]
        if "profile_of" in query:
            profile = engine.profile_of(query["profile_of"], as_of=at)
        else:
            profile = engine.profile(query["profile"], as_of=at)
        got = None if profile is None else {"profile_id": profile["profile_id"], "touchpoint_ids": profile["touchpoint_ids"]}
        assert got == query["expected"], query


@pytest.mark.parametrize("path", TWIN, ids=lambda p: p.stem)
def test_twin_vector(path):
    vector = load(path)
    engine = ot.Engine(vector["config"])
    # Rows as a notebook gives them: custom attributes (sku, consent_channel) as columns.
    engine.ingest(vector["touchpoints"])
    expected = vector["expected"]
    for tp, want in expected["profiles"].items():
        profile = engine.profile_of(tp)
        got = {"traits": profile["traits"], "consent": profile["consent"], "segments": profile["segments"]}
        assert got == want, tp

    def members(tps):
        return sorted(engine.profile_of(tp)["profile_id"] for tp in tps)

    for case in expected["segments"]:
        got = engine.segment(case["expression"], channel=case.get("channel"), purpose=case.get("purpose", "marketing"))
        assert got == members(case["members_of"]), case
    for name, members_of in expected["members"].items():
        assert engine.segment_members(name) == members(members_of), name
    for case in expected["errors"]:
        with pytest.raises(ot.InvalidInputError) as caught:
            engine.segment(case["expression"])
        assert caught.value.position == case["position"], case


@pytest.mark.parametrize("path", WHAT_IF, ids=lambda p: p.stem)
def test_what_if_vector(path):
    vector = load(path)
    engine = ot.Engine(vector["config"])
    for tp in vector["touchpoints"]:
        engine.ingest_one(tp)
    before = engine.assignments()
    feed = len(engine.changes())
    expected = vector["expected"]
    assert engine.simulate(vector["new_config"]) == expected["simulation"]
    assert engine.assignments().equals(before) and len(engine.changes()) == feed, "simulate changes nothing"
    engine.apply_config(vector["new_config"])
    assert engine.changes(feed) == expected["recorded"]
    after = engine.assignments()
    assert dict(zip(after["touchpoint_id"], after["profile_id"])) == expected["assignments"]


ROWS = sorted((VECTORS / "rows").glob("*.json"))


@pytest.mark.parametrize("path", ROWS, ids=lambda p: p.stem)
def test_rows_vector(path):
    vector = load(path)
    engine = ot.Engine(vector["config"])
    engine.ingest(vector["rows"])  # a list of dicts, as a user writes it
    groups = {}
    for row in engine.assignments().iter_rows(named=True):
        groups.setdefault(row["profile_id"], []).append(row["touchpoint_id"])
    assert sorted(sorted(g) for g in groups.values()) == vector["expected"]["groups"]
    for tp, fields in vector["expected"]["touchpoints"].items():
        held = engine.touchpoint(tp)
        for field, value in fields.items():
            assert held[field] == value, f"{tp}.{field}"
    for bad in vector["bad_batches"]:
        engine = ot.Engine(vector["config"])
        with pytest.raises(ot.InvalidInputError) as caught:
            engine.ingest(bad["rows"])
        assert (caught.value.row, caught.value.column) == (bad["row"], bad["column"])
        assert len(engine) == 0


STORE = sorted((VECTORS / "store").glob("*.json"))


@pytest.mark.parametrize("path", STORE, ids=lambda p: p.stem)
def test_store_vector(path, tmp_path):
    vector = load(path)
    expected = vector["expected"]
    file = tmp_path / "cdp.db"
    with pytest.raises(ot.IoError, match=expected["missing_error"]):
        ot.Engine.open(file, vector["config"])
    assert not file.exists()
    got = []
    for i, session in enumerate(vector["sessions"]):
        engine = ot.Engine.open(file, vector["config"], create=True) if i == 0 else ot.Engine.open(file)
        assert engine.warnings() == []
        for touchpoint in session["touchpoints"]:
            engine.ingest_one(touchpoint)
        profiles = dict(engine.assignments().select("touchpoint_id", "profile_id").iter_rows())
        got.append({"profiles": dict(sorted(profiles.items())), "feed": len(engine.changes())})
        engine.close()
    assert got == expected["sessions"]
    reader = ot.Engine.open_read_only(file)
    with pytest.raises(ot.IoError, match=expected["read_only_error"]):
        reader.ingest_one({"touchpoint_id": "r1"})
    writer = ot.Engine.open(file, vector["config"])
    with pytest.raises(ot.IoError, match=expected["second_writer_error"]):
        ot.Engine.open(file, vector["config"])
    assert writer.check()["problems"] == expected["problems"]
    writer.close()
    with pytest.raises(ot.IoError, match=expected["closed_error"]):
        writer.ingest_one({"touchpoint_id": "w1"})
