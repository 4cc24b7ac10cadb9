#!/usr/bin/env bash
# What the Python binding adds to the core's time and memory on one large input:
#   bash benches/python_overhead.sh FILE [RUNS]
# FILE: touchpoints as Parquet or CSV, e.g. from `cargo run --release --example generate --
# 310000 DIR` (about a million touchpoints). Builds the package in release into the test venv.
set -euo pipefail
cd "$(dirname "$0")/.."
file="$1"; runs="${2:-2}"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/omnitwin/py-venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r bindings-python/requirements-test.txt
PATH="$venv/bin:$PATH" MATURIN_PEP517_ARGS="--profile release" \
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall ./bindings-python
cargo bench --quiet --bench frame_ingest -- "$file" "$runs"
/usr/bin/time -f "rust peak RSS %M KB" cargo bench --quiet --bench frame_ingest -- "$file" 1 2>&1 | tail -1
"$venv/bin/python" benches/python_overhead.py "$file" "$runs"
