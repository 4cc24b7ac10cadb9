"""The durable store from Python as users live with it: opened again and again with the default
config (matching on), two real processes on one store, readers, closing, checking and
rebuilding."""

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import omnitwin as ot

SAMPLE = Path(__file__).resolve().parents[2] / "examples" / "data" / "touchpoints.csv"


def email_and_cookie(i):
    return {"touchpoint_id": f"t{i}", "email": f"buyer{i % 7}@shop.vn", "cookie_id": f"ck-{i}"}


def test_a_default_store_fed_identifiers_only_opens_again_and_again(tmp_path):
    # The reported case: the third open failed ("term frequency counts must not exceed a
    # positive total") with the touchpoints still in the file.
    path = tmp_path / "cdp.db"
    expected = None
    for round in range(6):
        with ot.Engine.open(path, create=True) as engine:
            assert engine.warnings() == [], f"open number {round + 1}"
            if expected is not None:
                assert engine.assignments().sort("touchpoint_id").to_dicts() == expected
            for i in range(round * 2, round * 2 + 2):
                engine.ingest_one(email_and_cookie(i))
            expected = engine.assignments().sort("touchpoint_id").to_dicts()
    engine = ot.Engine.open_read_only(path)
    assert len(engine) == 12 and engine.is_read_only()
    check = engine.check()
    assert check["problems"] == [] and check["touchpoints"] == 12, check


WRITER = textwrap.dedent(
    """
    import sys
    import omnitwin as ot
    engine = ot.Engine.open(sys.argv[1], create=True)
    print("open", flush=True)
    for line in sys.stdin:
        n = int(line)
        start = len(engine)
        for i in range(start, start + n):
            engine.ingest_one({"touchpoint_id": f"w{i}", "email": f"w{i % 5}@x.vn"})
        print("held", len(engine), flush=True)
    """
)


def test_two_processes_one_store(tmp_path):
    path = tmp_path / "cdp.db"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout.readline().strip() == "open"
        writer.stdin.write("20\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "held 20"
        # A second writer is refused, naming the process that has the store.
        with pytest.raises(ot.IoError, match=f"in use by another process \\(process {writer.pid}"):
            ot.Engine.open(path)
        # A reader sees what was committed when it opened.
        reader = ot.Engine.open_read_only(path)
        assert len(reader) == 20
        with pytest.raises(ot.IoError, match="opened read-only"):
            reader.ingest_one({"touchpoint_id": "r1", "email": "r@x.vn"})
        writer.stdin.write("5\n")
        writer.stdin.flush()
        assert writer.stdout.readline().strip() == "held 25"
        assert len(reader) == 20 and len(ot.Engine.open_read_only(path)) == 25
    finally:
        writer.stdin.close()
        writer.wait(timeout=60)
    assert writer.returncode == 0
    with ot.Engine.open(path) as engine:
        assert len(engine) == 25 and engine.warnings() == []
        assert engine.check()["problems"] == []


def test_close_check_rebuild_retrain_compact(tmp_path):
    path = tmp_path / "cdp.db"
    engine = ot.Engine.open(path, create=True)
    assert engine.store_path() == path and not engine.is_read_only()
    engine.ingest([email_and_cookie(i) for i in range(40)])
    engine.retrain()
    engine.compact()
    rebuilt = engine.rebuild()
    assert rebuilt["problems"] == [] and rebuilt["touchpoints"] == 40
    engine.close()
    with pytest.raises(ot.IoError, match="closed"):
        engine.ingest_one(email_and_cookie(99))
    assert len(engine) == 40, "a closed engine still reads"
    assert ot.Engine().store_path() is None and ot.Engine().check()["path"] is None


def test_a_damaged_model_is_rebuilt_with_a_warning(tmp_path):
    path = tmp_path / "cdp.db"
    with ot.Engine.open(path, create=True) as engine:
        engine.ingest(SAMPLE)
        assert engine.model() is not None
        held = len(engine)
    conn = sqlite3.connect(path)
    conn.execute("""UPDATE meta SET value = '{"prior": 7}' WHERE key = 'model'""")
    conn.commit()
    conn.close()
    with pytest.warns(RuntimeWarning, match="matching model"):
        engine = ot.Engine.open(path)
    assert len(engine) == held and engine.warnings()
    engine.close()
    with ot.Engine.open(path) as engine:
        assert engine.warnings() == [], "rebuilt state was written back"
