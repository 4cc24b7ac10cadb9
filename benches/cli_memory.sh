#!/usr/bin/env bash
# The whole CLI run on generated touchpoints: wall time and peak memory (max RSS).
#   bash benches/cli_memory.sh [PEOPLE]    (default 310000 people ≈ 1M touchpoints)
set -euo pipefail
cd "$(dirname "$0")/.."
people="${1:-310000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet --bin omnitwin --example generate
target="${CARGO_TARGET_DIR:-target}/release"
"$target/examples/generate" "$people" "$work/data" 42
rows=$(($(wc -l < "$work/data/touchpoints.csv") - 1))
size=$(du -h "$work/data/touchpoints.csv" | cut -f1)
for format in parquet csv; do
  /usr/bin/time -v "$target/omnitwin" resolve --quiet --input "$work/data/touchpoints.csv" --out "$work/out-$format" \
    --format "$format" 2> "$work/time-$format.txt"
  wall=$(grep "Elapsed (wall clock)" "$work/time-$format.txt" | awk '{print $NF}')
  rss_kb=$(grep "Maximum resident set size" "$work/time-$format.txt" | awk '{print $NF}')
  printf '%-8s %10d touchpoints (%s CSV)  wall %s  peak RSS %d MiB\n' "$format" "$rows" "$size" "$wall" $((rss_kb / 1024))
done
python3 - "$work/out-parquet/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("stages (s):", {k: round(v, 2) for k, v in r["seconds"].items()}, "profiles:", r["resolve"]["profiles"])
PY
