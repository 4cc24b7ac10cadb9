"""Splink (DuckDB backend) and omnitwin side by side on FEBRL: F1 and end-to-end wall time
(train + predict + cluster) of each, over several alternating runs (the median compared: one
run of a 0.3-second job on a shared 2-core machine varies by a third). Run through
`bash benches/splink_peer.sh [FEBRL_DIR] [RUNS]`."""

import statistics
import sys
import time
import subprocess
import tempfile
from itertools import combinations
from pathlib import Path

import pandas as pd


def pairs_of(groups):
    out = set()
    for members in groups.values():
        out.update(combinations(sorted(members), 2))
    return out


def f1(assignments):
    """Pairwise precision, recall and F1 of {record id: cluster id} against `rec-N-…`."""
    by_cluster, by_person = {}, {}
    for rec, cluster in assignments.items():
        by_cluster.setdefault(cluster, []).append(rec)
        by_person.setdefault(rec.split("-")[1], []).append(rec)
    predicted, truth = pairs_of(by_cluster), pairs_of(by_person)
    hits = len(predicted & truth)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(truth)
    return precision, recall, 2 * precision * recall / (precision + recall)


def load(path):
    df = pd.read_csv(path, dtype=str, skipinitialspace=True, keep_default_na=False)
    df.columns = [c.strip() for c in df.columns]
    return df.replace({"": None})


BLOCKING = [
    ("given_name", "surname"),
    ("surname", "date_of_birth"),
    ("given_name", "date_of_birth"),
    ("soc_sec_id",),
    ("postcode", "street_number"),
]


def splink(files, link_type):
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    start = time.perf_counter()
    db_api = DuckDBAPI()
    frames = [db_api.register(load(f)) for f in files]
    settings = SettingsCreator(
        link_type=link_type,
        unique_id_column_name="rec_id",
        blocking_rules_to_generate_predictions=[block_on(*rule) for rule in BLOCKING],
        comparisons=[
            cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
            cl.NameComparison("surname").configure(term_frequency_adjustments=True),
            cl.ExactMatch("street_number"),
            cl.LevenshteinAtThresholds("address_1", [1, 2]),
            cl.LevenshteinAtThresholds("suburb", [1, 2]),
            cl.LevenshteinAtThresholds("postcode", [1]),
            cl.ExactMatch("state"),
            cl.DateOfBirthComparison("date_of_birth", input_is_string=True, datetime_format="%Y%m%d"),
            cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]),
        ],
    )
    linker = Linker(frames if len(frames) > 1 else frames[0], settings)
    linker.training.estimate_probability_two_random_records_match([block_on("soc_sec_id")], recall=0.9)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("date_of_birth"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("postcode"))
    predictions = linker.inference.predict(threshold_match_probability=0.9)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9).as_pandas_dataframe()
    elapsed = time.perf_counter() - start
    return dict(zip(clusters["rec_id"], clusters["cluster_id"])), elapsed


def omnitwin(binary, settings, files):
    out = Path(tempfile.mkdtemp())
    start = time.perf_counter()
    args = [binary, "link", "--settings", settings, "--out", str(out)]
    for f in files:
        args += ["--input", f]
    subprocess.run(args, check=True, stderr=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    df = pd.read_csv(out / "assignments.csv", dtype=str)
    return dict(zip(df["record_id"], df["cluster_id"])), elapsed


def main():
    binary, examples, data = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    runs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    jobs = [
        ("dataset3 dedupe", "dedupe_only", examples / "dedupe.json", [data / "dataset3.csv"]),
        ("dataset4 link", "link_only", examples / "link.json", [data / "dataset4a.csv", data / "dataset4b.csv"]),
    ]
    print(f"{runs} runs of each tool per job; times are the median (min-max) of the runs")
    # Every omnitwin run first: DuckDB's worker threads outlive Splink's runs in this process
    # and would share the cores with an omnitwin process started after them.
    times, scores = {}, {}
    for tool in ("omnitwin", "splink"):
        for name, link_type, settings, files in jobs:
            files = [str(f) for f in files]
            for _ in range(runs):
                if tool == "omnitwin":
                    assignments, seconds = omnitwin(binary, str(settings), files)
                else:
                    assignments, seconds = splink(files, link_type)
                times.setdefault((name, tool), []).append(seconds)
                scores[(name, tool)] = f1(assignments)
    print(f"{'job':<16} {'tool':<9} {'precision':>9} {'recall':>8} {'F1':>8} {'seconds':>20}")
    for name, *_ in jobs:
        for tool in ("omnitwin", "splink"):
            p, r, f = scores[(name, tool)]
            t = sorted(times[(name, tool)])
            spread = f"{statistics.median(t):.2f} ({t[0]:.2f}-{t[-1]:.2f})"
            print(f"{name:<16} {tool:<9} {p:>9.4f} {r:>8.4f} {f:>8.4f} {spread:>20}")
        ratio = statistics.median(times[(name, "splink")]) / statistics.median(times[(name, "omnitwin")])
        print(f"{name:<16} omnitwin is {ratio:.1f}x faster end to end (median against median)")


if __name__ == "__main__":
    main()
