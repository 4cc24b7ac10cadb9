#!/usr/bin/env bash
# Splink (PyPI `splink`, DuckDB backend) against omnitwin on FEBRL, side by side.
#   bash benches/splink_peer.sh [FEBRL_DIR] [RUNS]   (RUNS of each tool per job, default 3)
# Installs Splink into a virtual environment under ~/.cache/omnitwin (once); FEBRL_DIR defaults
# to ../shared/data/febrl, else fetch the files with `bash benches/fetch_febrl.sh DIR`.
set -euo pipefail
cd "$(dirname "$0")/.."
data="${1:-${FEBRL_DIR:-../shared/data/febrl}}"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/omnitwin/splink-venv"
# Checked by importing it: an install stopped halfway leaves a venv without Splink.
if ! "$venv/bin/python" -c "import splink" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "splink==5.0.0" duckdb pandas
fi
cargo build --release --quiet --bin omnitwin
# Cargo puts the binary under the target triple when one is set (scripts/test.sh sets it).
target="${CARGO_TARGET_DIR:-target}${CARGO_BUILD_TARGET:+/$CARGO_BUILD_TARGET}/release"
"$venv/bin/python" benches/splink_peer.py "$target/omnitwin" examples/febrl "$data" "${2:-3}"
