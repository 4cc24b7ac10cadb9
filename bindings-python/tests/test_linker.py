"""`omnitwin.Linker`: probabilistic linkage of any table, as the Rust `Linker` does it."""

import json

import polars as pl
import pytest

import omnitwin as ot

SETTINGS = {
    "comparisons": [
        {"column": "given_name", "levels": ["exact", {"jaro_winkler": 0.85}]},
        {"column": "dob", "levels": ["exact", {"within_years": 1}]},
    ],
    "blocking_rules": [["surname"]],
    "training": {"u_sample_pairs": 3000},
}


def people():
    """40 people, each written twice: the second time with the given name misspelt."""
    given = ["an", "binh", "chau", "dung", "giang", "hoa", "khanh", "linh"]
    surnames = ["nguyen", "tran", "le", "pham", "vu"]
    rows = []
    for p in range(40):
        for copy in range(2):
            name = given[p % 8]
            rows.append(
                {
                    "unique_id": f"{p}-{copy}",
                    "given_name": name if copy == 0 else f"{name}h",
                    "surname": surnames[p % 5],
                    "dob": f"19{50 + p}-0{1 + p % 9}-1{p % 10}",
                }
            )
    return pl.DataFrame(rows)


def test_dedupe_trains_predicts_clusters_and_explains():
    linker = ot.Linker(SETTINGS, people())
    assert len(linker) == 80
    report = linker.train()
    assert report["u_sample_pairs"] > 0 or report["u_counted"]
    pairs = linker.predict()
    assert pairs.columns == ["left", "right", "match_weight", "match_probability", "blocking_rule"]
    assert pairs["match_probability"].min() >= 0.9
    clusters = linker.cluster()
    assert clusters.columns == ["record_id", "cluster_id"] and clusters.height == 80
    by_record = dict(clusters.iter_rows())
    assert by_record["0-0"] == by_record["0-1"], "a person's two records join"
    assert by_record["0-0"] != by_record["1-0"], "two people stay apart"
    assert clusters.equals(linker.cluster(pairs)), "the pairs given back cluster the same"
    why = linker.explain("0-0", "0-1")
    assert isinstance(why, ot.PairExplanation)
    assert why["linked"] and why["match_probability"] >= 0.9
    assert [p["comparison"] for p in why["parts"]] == ["given_name", "dob"]
    assert "<svg" in why._repr_html_()


def test_models_round_trip_and_labels_train():
    trained = ot.Linker(SETTINGS, people())
    trained.train()
    model = json.loads(json.dumps(trained.model()))
    reused = ot.Linker(SETTINGS, people())
    reused.set_model(model)
    got, want = reused.predict(), trained.predict()
    assert got.select("left", "right").equals(want.select("left", "right"))
    assert (got["match_weight"] - want["match_weight"]).abs().max() < 1e-9
    labelled = ot.Linker(SETTINGS, people())
    labelled.train_from_labels([(f"{p}-0", f"{p}-1") for p in range(0, 40, 2)])
    assert labelled.predict().height > 0


def test_link_only_needs_two_tables_and_errors_name_the_field():
    settings = dict(SETTINGS, link_type="link_only")
    frame = people()
    left = frame.filter(pl.col("unique_id").str.ends_with("-0"))
    right = frame.filter(pl.col("unique_id").str.ends_with("-1"))
    linker = ot.Linker(settings, left, right)
    linker.train()
    assert linker.cluster().height == 80
    with pytest.raises(ot.ConfigError, match="link_type"):
        ot.Linker(settings, left)
    with pytest.raises(ot.SchemaError, match="no column `no_such_column`"):
        ot.Linker(dict(SETTINGS, blocking_rules=[["no_such_column"]]), frame)
    with pytest.raises(ot.ConfigError, match="comparisons"):
        ot.Linker(dict(SETTINGS, comparisons=[]), frame)
    with pytest.raises(ot.NotFoundError, match="unknown record `zz`"):
        ot.Linker(SETTINGS, frame).explain("0-0", "zz")
    with pytest.raises(ot.NotFoundError):
        linker.cluster(pl.DataFrame({"left": ["zz"], "right": ["0-0"], "match_weight": [1.0], "match_probability": [0.99], "blocking_rule": [0]}))
