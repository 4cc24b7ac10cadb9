"""The Python face of the engine: every kind of input, errors and their fields, the lock
released during work, models, and the one-shot shortcut."""

import datetime
import json
import threading
import time
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import omnitwin as ot

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "examples" / "data" / "touchpoints.csv"

ROWS = [
    {"touchpoint_id": "web-1", "channel": "web", "email": "An.Nguyen@Gmail.com", "full_name": "Nguyễn An"},
    {"touchpoint_id": "pos-1", "channel": "store", "email": "annguyen@gmail.com", "phone": "0912 345 678"},
    {"touchpoint_id": "zalo-1", "channel": "social", "phone": "+84 912 345 678", "vip_tier": "gold"},
    {"touchpoint_id": "web-2", "channel": "web", "email": "binh@yahoo.com"},
]


def groups(engine):
    out = {}
    for row in engine.assignments().iter_rows(named=True):
        out.setdefault(row["profile_id"], set()).add(row["touchpoint_id"])
    return sorted(sorted(g) for g in out.values())


@pytest.fixture(scope="module")
def sample():
    return pl.read_csv(SAMPLE, infer_schema_length=0)


def test_every_input_kind_gives_the_same_profiles(sample, tmp_path):
    expected = ot.Engine()
    expected.ingest(str(SAMPLE))
    want = groups(expected)
    parquet = tmp_path / "sample.parquet"
    sample.write_parquet(parquet)
    inputs = {
        "polars": sample,
        "pandas": sample.to_pandas(),
        "pyarrow table": sample.to_arrow(),
        "pyarrow batches": pa.RecordBatchReader.from_batches(sample.to_arrow().schema, sample.to_arrow().to_batches(max_chunksize=500)),
        "path": SAMPLE,
        "parquet path": str(parquet),
        "list of dicts": sample.to_dicts(),
        "duckdb relation": duckdb.sql(f"select * from read_csv('{SAMPLE}', all_varchar=true)"),
    }
    for name, data in inputs.items():
        engine = ot.Engine()
        report = engine.ingest(data)
        assert report == {"accepted": sample.height, "rejected": []}, name
        assert groups(engine) == want, name
    assert expected.resolve()["profiles"] == 1904


def test_results_are_polars_frames_and_dicts():
    engine = ot.Engine()
    engine.ingest(ROWS)
    assert len(engine) == 4
    assignments = engine.assignments()
    assert isinstance(assignments, pl.DataFrame)
    assert assignments.columns == ["touchpoint_id", "profile_id"]
    assert groups(engine) == [["pos-1", "web-1", "zalo-1"], ["web-2"]]
    profiles = engine.profiles()
    assert profiles.height == 2 and "profile_id" in profiles.columns
    profile = engine.profile_of("zalo-1")
    assert profile["touchpoint_count"] == 3
    assert profile["attributes"]["full_name"]["value"] == "Nguyễn An"
    assert profile["attributes"]["vip_tier"]["value"] == "gold"
    assert engine.profile(profile["profile_id"]) == profile
    assert engine.profile("nobody") is None
    assert engine.touchpoint("zalo-1")["attributes"] == {"vip_tier": "gold"}
    report = engine.resolve()
    assert (report["touchpoints"], report["profiles"]) == (4, 2)


def test_lookup_normalizes_like_any_input():
    engine = ot.Engine()
    engine.ingest(ROWS)
    want = engine.profile_of("web-1")["profile_id"]
    assert engine.lookup(phone="0912.345.678")["profile_id"] == want
    assert engine.lookup(email="AN.NGUYEN@gmail.com")["profile_id"] == want
    assert engine.lookup(email="nobody@example.com") is None
    with pytest.raises(TypeError, match="exactly one identifier"):
        engine.lookup(email="a@b.c", phone="0912345678")
    with pytest.raises(TypeError, match="exactly one identifier"):
        engine.lookup()


def test_explain_says_why():
    engine = ot.Engine()
    engine.ingest(ROWS)
    why = engine.explain("web-1", "zalo-1")
    assert why["same_profile"] is True
    assert len(why["path"]) == 2
    assert engine.explain("web-1", "web-2")["same_profile"] is False
    with pytest.raises(ot.NotFoundError, match="unknown touchpoint `nope`") as raised:
        engine.explain("web-1", "nope")
    assert raised.value.kind == "not_found"


def test_errors_carry_the_row_and_column():
    engine = ot.Engine()
    with pytest.raises(ot.InvalidInputError) as raised:
        engine.ingest([{"touchpoint_id": "a"}, {"touchpoint_id": "a"}])
    assert raised.value.row == 2 and "duplicate touchpoint_id `a`" in str(raised.value)
    assert isinstance(raised.value, ot.OmnitwinError)
    assert len(engine) == 0, "a failed ingest adds nothing"
    with pytest.raises(ot.InvalidInputError) as raised:
        engine.ingest([{"touchpoint_id": "a", "amount": "12"}, {"touchpoint_id": "b", "amount": "lots"}])
    assert (raised.value.row, raised.value.column) == (2, "amount")
    report = engine.ingest([{"touchpoint_id": "a", "amount": "12"}, {"touchpoint_id": "b", "amount": "lots"}], on_error="skip")
    assert report["accepted"] == 1 and report["rejected"][0]["row"] == 2
    with pytest.raises(ot.ConfigError, match="on_error"):
        engine.ingest(ROWS, on_error="sometimes")


def test_bad_inputs_and_configs():
    with pytest.raises(ot.ConfigError, match="unknown field `nope`"):
        ot.Engine({"nope": 1})
    with pytest.raises(ot.ConfigError) as raised:
        ot.Engine({"default_region": "XX"})
    assert raised.value.kind == "config"
    with pytest.raises(TypeError, match="__arrow_c_stream__"):
        ot.Engine().ingest(42)
    with pytest.raises(ot.IoError):
        ot.Engine().ingest("/no/such/file.csv")
    with pytest.raises(ot.SchemaError):
        ot.Engine().ingest(pl.DataFrame({"email": ["a@b.c"]}))
    with pytest.raises(ot.SchemaError, match="no touchpoints"):
        ot.Engine().ingest(pl.DataFrame({"touchpoint_id": []}, schema={"touchpoint_id": pl.String}))


def test_config_round_trips_and_from_json(tmp_path):
    engine = ot.Engine({"default_region": "SG", "matching": {"enabled": False}})
    config = engine.config()
    assert config["default_region"] == "SG"
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    again = ot.Engine.from_json(path)
    assert again.config() == config
    assert again.model() is None, "matching is off"


def test_model_is_trained_saved_and_reused(sample):
    trained = ot.Engine()
    trained.ingest(sample)
    model = trained.model()
    assert model is not None and model["comparisons"]
    reused = ot.Engine()
    reused.set_model(json.loads(json.dumps(model)))
    reused.ingest(sample)
    assert groups(reused) == groups(trained)
    assert reused.resolve()["matching"]["model"] == "given"
    with pytest.raises(ot.ConfigError):
        ot.Engine().set_model({"prior": 0.1, "comparisons": []})


def test_write_profiles(tmp_path):
    engine = ot.Engine()
    engine.ingest(ROWS)
    engine.write_profiles(tmp_path / "p.parquet")
    engine.write_profiles(tmp_path / "p.csv", format="csv")
    assert pl.read_parquet(tmp_path / "p.parquet").height == 2
    assert pl.read_csv(tmp_path / "p.csv").height == 2


def test_one_shot_resolve(sample):
    assignments = ot.resolve(sample)
    assert assignments.height == sample.height
    assert assignments["profile_id"].n_unique() == 1904


def test_frames_out_are_arrow_streams_read_once():
    engine = ot.Engine()
    engine.ingest(ROWS)
    table = pa.table(engine.assignments())
    assert table.num_rows == 4
    assert pd.DataFrame(engine.assignments().to_pandas()).shape == (4, 2)


def test_the_interpreter_lock_is_released_during_work():
    n = 150_000
    big = pl.DataFrame(
        {
            "touchpoint_id": [f"t{i}" for i in range(n)],
            "email": [f"user{i % 40_000}@gmail.com" for i in range(n)],
            "full_name": [f"Name {i % 40_000}" for i in range(n)],
        }
    )
    engine = ot.Engine()
    ticks = []
    done = threading.Event()

    def work():
        engine.ingest(big)
        engine.resolve()
        done.set()

    worker = threading.Thread(target=work)
    started = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks.append(time.perf_counter())
        time.sleep(0.001)
    worker.join()
    elapsed = time.perf_counter() - started
    # The main thread kept running Python code while the core worked: with the lock held it
    # would tick only between the worker's two calls, a handful of times at most. A tick
    # takes at least a millisecond, so a free main thread ticks about once per millisecond of
    # work; a tenth of that leaves room for a loaded machine.
    assert elapsed > 0.05, "the work is too short to tell"
    assert len(ticks) >= max(20, elapsed * 1000 / 10), f"{len(ticks)} ticks in {elapsed:.3f} s of work"
    report = engine.resolve()
    assert report["touchpoints"] == n and report["profiles"] <= 40_000


def test_the_module_docstring_example_runs():
    import doctest

    failures, tried = doctest.testmod(ot, verbose=False)
    assert tried >= 3 and failures == 0


def interrupt_after(seconds):
    """Sends Ctrl-C (SIGINT) to this process after `seconds`, from another thread."""
    import os
    import signal

    timer = threading.Timer(seconds, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def big_frame(n):
    return pl.DataFrame(
        {
            "touchpoint_id": [f"t{i}" for i in range(n)],
            "email": [f"user{i % 300_000}@gmail.com" for i in range(n)],
            "phone": [f"09{i % 300_000:08d}" for i in range(n)],
            "full_name": [f"Name {i % 300_000}" for i in range(n)],
            "city": ["Ha Noi"] * n,
            "address": [f"{i % 500} Le Loi" for i in range(n)],
        }
    )


def test_ctrl_c_stops_an_ingest_and_leaves_the_engine_as_it_was():
    engine = ot.Engine(DETERMINISTIC)
    frame = big_frame(1_000_000)
    timer = interrupt_after(0.05)
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        engine.ingest(frame)
    timer.join()
    # Heard within 100 ms; the ingest then stops at its next column.
    assert time.perf_counter() - started < 3.0
    assert len(engine) == 0, "a stopped ingest adds nothing"
    assert engine.ingest(frame.head(10))["accepted"] == 10, "the engine works on"


# Matching off: these tests are about the binding, and the generated rows' blocks are large.
DETERMINISTIC = {"matching": {"enabled": False}}


def test_ctrl_c_returns_from_a_resolve_at_once():
    engine = ot.Engine(DETERMINISTIC)
    engine.ingest(big_frame(1_000_000))
    timer = interrupt_after(0.2)
    started = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        engine.resolve()
    timer.join()
    assert time.perf_counter() - started < 1.5, "Python got control back within a second"
    # The resolution finished in the background (it is a cache); asking again waits for it.
    assert engine.resolve()["touchpoints"] == 1_000_000


def test_profiles_and_explanations_show_as_html_in_notebooks(sample):
    engine = ot.Engine()
    engine.ingest(sample)
    profile = engine.profile_of("tp-000018-00")
    assert isinstance(profile, ot.Profile) and isinstance(profile, dict)
    card = profile._repr_html_()
    assert profile["profile_id"] in card and "<table" in card and "timeline" in card
    for tp in profile["touchpoint_ids"]:
        assert tp in card
    why = engine.explain("tp-000018-00", "tp-000018-03")
    assert isinstance(why, ot.Explanation)
    html = why._repr_html_()
    assert "<svg" in html and "probabilistic match" in html and "threshold" in html
    plain = ot.profile_html(dict(profile))
    assert profile["profile_id"] in plain and "timeline" not in plain, "a dict alone has no touchpoints"


def test_a_panic_in_the_core_is_an_exception():
    from omnitwin import _omnitwin

    with pytest.raises(ot.InternalError, match="on purpose"):
        _omnitwin._panic_for_tests()
    assert issubclass(ot.InternalError, ot.OmnitwinError)


def test_a_panic_while_writing_never_leaves_a_broken_engine(tmp_path):
    # A durable engine is reopened from its store: everything acknowledged, nothing half-done.
    engine = ot.Engine.open(tmp_path / "cdp.db", create=True)
    engine.ingest_one({"touchpoint_id": "a", "email": "an@x.vn"})
    with pytest.raises(ot.InternalError, match="on purpose"):
        engine._panic_while_writing_for_tests()
    assert len(engine) == 1 and engine.profile_of("a") is not None
    engine.ingest_one({"touchpoint_id": "b", "email": "an@x.vn"})
    assert engine.profile_of("b")["profile_id"] == engine.profile_of("a")["profile_id"]
    engine.close()
    # An engine in memory may be half-changed: every later call says so, in the package's
    # own error type, and names what to do.
    memory = ot.Engine()
    memory.ingest_one({"touchpoint_id": "a", "email": "an@x.vn"})
    with pytest.raises(ot.InternalError):
        memory._panic_while_writing_for_tests()
    for call in (lambda: len(memory), lambda: memory.profile_of("a"), lambda: memory.ingest_one({"touchpoint_id": "c"})):
        with pytest.raises(ot.InternalError, match="create a new Engine"):
            call()


def test_reopen_shows_a_reader_what_was_committed_since(tmp_path):
    path = tmp_path / "cdp.db"
    writer = ot.Engine.open(path, create=True)
    reader = ot.Engine.open_read_only(path)
    writer.ingest_one({"touchpoint_id": "a", "email": "an@x.vn"})
    assert len(reader) == 0
    reader.reopen()
    assert len(reader) == 1 and reader.is_read_only()
    with pytest.raises(ot.IoError, match="nothing to reopen"):
        ot.Engine().reopen()


def test_progress_shows_the_stages_on_stderr(capsys):
    engine = ot.Engine(DETERMINISTIC, progress=True)
    engine.ingest(big_frame(300_000))
    engine.resolve()
    shown = capsys.readouterr().err
    assert "omnitwin: " in shown, shown
    quiet = ot.Engine()
    quiet.ingest(big_frame(1000))
    assert capsys.readouterr().err == ""


def test_live_ingest_one_changes_and_merged_ids():
    engine = ot.Engine({"matching": {"enabled": False}})
    first = engine.ingest_one({"touchpoint_id": "a", "email": "an@x.vn", "timestamp": 10})
    assert first["touchpoint_id"] == "a" and [c["change"] for c in first["changes"]] == ["created"]
    second = engine.ingest_one({"touchpoint_id": "b", "phone": "0912 345 678", "timestamp": 20})
    both = engine.ingest_one({"touchpoint_id": "c", "email": "AN@x.vn", "phone": "+84912345678", "timestamp": 30})
    assert both["profile_id"] == first["profile_id"], "the older profile's id survives"
    assert both["changes"] == [
        {"seq": 3, "change": "merged", "profile_id": second["profile_id"], "into": first["profile_id"]}
    ]
    assert engine.profile(second["profile_id"])["profile_id"] == first["profile_id"]
    assert engine.lookup(phone="0912345678")["touchpoint_count"] == 3
    assert [c["seq"] for c in engine.changes(1)] == [2, 3]
    log = engine.changes_frame()
    assert log.columns == ["seq", "change", "profile_id", "into", "segment"] and log["change"].to_list() == ["created"] * 2 + ["merged"]
    assert log["into"][2] == first["profile_id"]
    # A batch into a live engine is recorded in the feed too.
    engine.ingest([{"touchpoint_id": "d", "email": "binh@x.vn"}])
    assert engine.changes(3)[0]["change"] == "created"


def test_history_as_of_a_datetime_text_or_milliseconds():
    engine = ot.Engine({"matching": {"enabled": False}, "timezone": "+07:00"})
    a = engine.ingest_one({"touchpoint_id": "a", "email": "an@x.vn"})
    b = engine.ingest_one({"touchpoint_id": "b", "phone": "0912 345 678"})
    before = engine.acknowledged_at("b")
    time.sleep(0.003)
    engine.ingest_one({"touchpoint_id": "c", "email": "an@x.vn", "phone": "0912345678"})
    assert engine.profile(b["profile_id"])["profile_id"] == a["profile_id"], "merged now"
    aware = datetime.datetime.fromtimestamp(before / 1000, tz=datetime.timezone.utc)
    naive_local = (aware + datetime.timedelta(hours=7)).replace(tzinfo=None)  # read in +07:00
    for as_of in [before, aware, naive_local, aware.isoformat()]:
        then = engine.profile(b["profile_id"], as_of=as_of)
        assert then["profile_id"] == b["profile_id"] and then["touchpoint_ids"] == ["b"], as_of
        assert engine.profile_of("c", as_of=as_of) is None
        assert engine.profile_of("b", as_of=as_of)["touchpoint_ids"] == ["b"]
    assert engine.profile_of("a", as_of=before - 10_000) is None
    assert engine.acknowledged_at("nobody") is None
    with pytest.raises(ot.InvalidInputError) as err:
        engine.profile("P0", as_of="last tuesday")
    assert err.value.column == "as_of"
    with pytest.raises(TypeError):
        engine.profile("P0", as_of=[1])


def test_ingest_one_errors_name_the_field_and_change_nothing():
    engine = ot.Engine()
    engine.ingest_one({"touchpoint_id": "a", "email": "an@x.vn"})
    with pytest.raises(ot.InvalidInputError) as raised:
        engine.ingest_one({"touchpoint_id": "b", "timestamp": "yesterday"})
    assert raised.value.column == "timestamp"
    with pytest.raises(ot.InvalidInputError) as raised:
        engine.ingest_one({"touchpoint_id": "b", "emial": "x@y.z"})
    assert raised.value.column == "emial" and "unknown field" in str(raised.value)
    with pytest.raises(ot.InvalidInputError, match="duplicate"):
        engine.ingest_one({"touchpoint_id": "a"})
    assert len(engine) == 1 and len(engine.changes()) == 1


def test_a_durable_store_reopens_where_it_stopped(tmp_path):
    path = tmp_path / "cdp.db"
    engine = ot.Engine.open(path, {"matching": {"enabled": False}}, create=True)
    first = engine.ingest_one({"touchpoint_id": "a", "email": "an@x.vn", "timestamp": 10})
    engine.ingest(ROWS)
    before = groups(engine)
    feed = engine.changes()
    del engine
    again = ot.Engine.open(path)  # the config comes from the store
    assert len(again) == 1 + len(ROWS)
    assert groups(again) == before and again.changes() == feed
    assert again.profile_of("a")["profile_id"] == first["profile_id"]
    again.close()
    with pytest.raises(ot.ConfigError, match="another config"):
        ot.Engine.open(path, {"matching": {"enabled": True}})
    with pytest.raises(ot.IoError):
        ot.Engine.open(tmp_path / "no" / "such" / "dir.db", create=True)


def test_open_never_creates_a_store_unless_asked(tmp_path):
    # A mistyped path is an error naming how to create a store, not a new empty store.
    path = tmp_path / "cdp.db"
    for open_missing in (lambda: ot.Engine.open(path), lambda: ot.Engine.open(path, {"timezone": "+07:00"}),
                         lambda: ot.Engine.open_existing(path), lambda: ot.Engine.open_read_only(path)):
        with pytest.raises(ot.IoError, match="no such store.*create=True"):
            open_missing()
        assert not path.exists()
    created = ot.Engine.open_or_create(path, {"timezone": "+07:00"})
    created.ingest_one({"touchpoint_id": "a", "email": "an@x.vn"})
    created.close()
    assert ot.Engine.open_existing(path).config()["timezone"] == "+07:00"
    assert len(ot.Engine.open(path, create=True)) == 1  # create=True opens an existing store as it is


def test_forget_a_person_by_identifier_or_profile(tmp_path):
    engine = ot.Engine.open(tmp_path / "cdp.db", {"matching": {"enabled": False}}, create=True)
    engine.ingest(ROWS)
    report = engine.forget(email="an.nguyen@gmail.com")
    assert report["touchpoints"] == ["pos-1", "web-1", "zalo-1"]
    assert [c["change"] for c in report["changes"]] == ["forgotten"]
    assert engine.lookup(phone="0912 345 678") is None and len(engine) == 1
    other = engine.profile_of("web-2")["profile_id"]
    assert engine.forget(profile_id=other)["touchpoints"] == ["web-2"]
    with pytest.raises(ot.NotFoundError):
        engine.forget(profile_id=other)
    with pytest.raises(TypeError, match="not both"):
        engine.forget(profile_id="P1", email="a@b.c")


def test_forget_with_suppression_refuses_the_person_later():
    engine = ot.Engine({"matching": {"enabled": False}})
    engine.ingest(ROWS)
    engine.forget(email="binh@yahoo.com", suppress=True)
    with pytest.raises(ot.InvalidInputError) as raised:
        engine.ingest_one({"touchpoint_id": "again", "email": "BINH@yahoo.com"})
    assert raised.value.column == "email" and "suppression list" in str(raised.value)
    report = engine.ingest([{"touchpoint_id": "x", "email": "binh@yahoo.com"}], on_error="skip")
    assert report["accepted"] == 0 and report["rejected"][0]["touchpoint_id"] == "x"


def test_traits_segments_and_the_rfm_scale_from_python():
    engine = ot.Engine({"segments": {"buyers": {"where": "orders >= 1"}}})
    engine.ingest(
        [
            {"touchpoint_id": "a1", "email": "a@x.vn", "event_type": "purchase", "amount": 300, "channel": "store", "timestamp": "2024-01-01T00:00:00Z"},
            {"touchpoint_id": "a2", "email": "a@x.vn", "event_type": "purchase", "amount": 200, "channel": "web", "timestamp": "2024-01-05T00:00:00Z"},
            {"touchpoint_id": "b1", "email": "b@x.vn", "event_type": "purchase", "amount": 50, "channel": "web", "timestamp": "2024-01-02T00:00:00Z"},
            {"touchpoint_id": "c1", "email": "c@x.vn", "event_type": "add_to_cart", "sku": "S1", "channel": "app", "timestamp": "2024-01-03T00:00:00Z"},
        ]
    )
    a = engine.profile_of("a1")
    assert a["traits"]["orders"] == 2 and a["traits"]["omnichannel_buyer"] is True
    assert a["traits"]["rfm"]["monetary_score"] == 5 and a["segments"] == ["buyers"]
    df = engine.profiles()
    row = df.filter(pl.col("profile_id") == a["profile_id"]).row(0, named=True)
    assert (row["orders"], row["journey_stage"], row["segments"]) == (2, "repeat", ["buyers"])
    assert df.filter(pl.col("cart_items") == 1)["cart_skus"].to_list() == [["S1"]]

    # The scale round-trips; a fixed one changes the scores.
    scale = engine.rfm_scale()
    assert scale["buyers"] == 2
    engine.set_rfm_scale({**scale, "monetary": [1000.0, 2000.0, 3000.0, 4000.0]})
    assert engine.profile_of("a1")["traits"]["rfm"]["monetary_score"] == 1
    with pytest.raises(ot.ConfigError):
        engine.set_rfm_scale({"buyers": "many"})

    assert engine.segment("orders >= 1") == sorted([a["profile_id"], engine.profile_of("b1")["profile_id"]])
    assert engine.segment("orders >= 1", channel="email") == []
    assert engine.segment_members("buyers") == engine.segment("orders >= 1")
    with pytest.raises(ot.InvalidInputError) as caught:
        engine.segment("orders >= 1 and (city = 'x'")
    assert caught.value.position == 28
    with pytest.raises(ot.ConfigError, match="buyers"):
        engine.segment_members("vip")

    # Live: the feed carries segment entries; a refresh re-evaluates everyone.
    engine.go_live()
    entered = [c for c in engine.changes() if c["change"] == "segment_entered"]
    assert sorted(c["profile_id"] for c in entered) == engine.segment_members("buyers")
    assert entered[0]["segment"] == "buyers"
    outcome = engine.ingest_one({"touchpoint_id": "c2", "email": "c@x.vn", "event_type": "purchase", "timestamp": "2024-01-06T00:00:00Z"})
    assert {"seq": outcome["changes"][-1]["seq"], "change": "segment_entered", "profile_id": outcome["profile_id"], "segment": "buyers"} in outcome["changes"]
    assert engine.refresh_segments() == 0


def test_the_omnichannel_report_in_a_notebook(sample):
    engine = ot.Engine()
    engine.ingest(sample)
    report = engine.report()
    assert isinstance(report, ot.Report)
    frames = report.frames()
    assert frames["customers_by_channel_count"]["profiles"].sum() == report["profiles"] == report["identity"]["profiles"]
    assert set(frames["funnel"]["stage"]) >= {"exposure", "purchase", "lapsed"}
    assert frames["revenue_by_channel"]["revenue"].sum() == pytest.approx(frames["revenue_by_first_touch"]["revenue"].sum())
    page = report._repr_html_()
    assert page == ot.report_html(report) and "Journey funnel" in page and "<svg" in page


def test_simulate_a_rule_change_then_apply_it():
    engine = ot.Engine({"matching": {"enabled": False}})
    engine.ingest_one({"touchpoint_id": "a", "phone": "0912 345 678", "timestamp": 1})
    engine.ingest_one({"touchpoint_id": "b", "phone": "+84912345678", "email": "an@x.vn", "timestamp": 2})
    stricter = {"matching": {"enabled": False}, "identifiers": {"phone": {"enabled": False}}}
    what_if = engine.simulate(stricter)
    assert (what_if["profiles_before"], what_if["profiles_after"], what_if["touchpoints_moved"]) == (1, 2, 1)
    assert [c["change"] for c in what_if["changes"]] == ["created", "split"]
    assert engine.resolve()["profiles"] == 1
    feed = len(engine.changes())
    engine.apply_config(stricter)
    assert [c["change"] for c in engine.changes(feed)] == ["created", "split"]
    assert engine.config()["identifiers"]["phone"]["enabled"] is False
    with pytest.raises(ot.ConfigError):
        engine.simulate({"timezone": "ICT"})
