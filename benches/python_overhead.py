"""The Python side of the binding-overhead comparison (`bash benches/python_overhead.sh`): the
same calls as `benches/frame_ingest.rs` through the `omnitwin` package, from a polars DataFrame,
with the process's peak memory."""

import resource
import sys
import time

import polars as pl

import omnitwin as ot


def main():
    path, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2
    df = pl.read_parquet(path) if path.endswith(".parquet") else pl.read_csv(path, infer_schema_length=0)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for run in range(1, runs + 1):
        start = time.perf_counter()
        engine = ot.Engine()
        engine.ingest(df)
        report = engine.resolve()
        assignments = engine.assignments()
        elapsed = time.perf_counter() - start
        print(
            f"python run {run}: {report['touchpoints']} touchpoints -> {report['profiles']} profiles, "
            f"{assignments.height} assignment rows: {elapsed:.2f} s"
        )
        del engine, assignments
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"python peak RSS {peak:.0f} MiB (the DataFrame alone: {loaded:.0f} MiB after reading)")


if __name__ == "__main__":
    main()
