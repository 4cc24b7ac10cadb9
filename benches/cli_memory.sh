#!/usr/bin/env bash
# The whole CLI run on generated touchpoints: wall time and peak memory (max RSS), with
# deterministic linking only (Parquet and CSV profiles) and with probabilistic matching (the
# default; CSV profiles).
#   bash benches/cli_memory.sh [PEOPLE]    (default 310000 people ≈ 1M touchpoints)
set -euo pipefail
cd "$(dirname "$0")/.."
people="${1:-310000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo build --release --quiet --bin omnitwin --example generate
# Cargo puts the binaries under the target triple when one is set (scripts/test.sh sets it).
target="${CARGO_TARGET_DIR:-target}${CARGO_BUILD_TARGET:+/$CARGO_BUILD_TARGET}/release"
"$target/examples/generate" "$people" "$work/data" 42
rows=$(($(wc -l < "$work/data/touchpoints.csv") - 1))
size=$(du -h "$work/data/touchpoints.csv" | cut -f1)
for run in parquet:--deterministic-only csv:--deterministic-only csv:; do
  format="${run%%:*}"
  flag="${run#*:}"
  name="$format${flag:+-deterministic}"
  /usr/bin/time -v "$target/omnitwin" resolve --quiet --input "$work/data/touchpoints.csv" --out "$work/out-$name" \
    --format "$format" $flag 2> "$work/time-$name.txt"
  wall=$(grep "Elapsed (wall clock)" "$work/time-$name.txt" | awk '{print $NF}')
  rss_kb=$(grep "Maximum resident set size" "$work/time-$name.txt" | awk '{print $NF}')
  printf '%-22s %10d touchpoints (%s CSV)  wall %s  peak RSS %d MiB\n' "$name" "$rows" "$size" "$wall" $((rss_kb / 1024))
done
python3 - "$work/out-csv/report.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("stages (s):", {k: round(v, 2) for k, v in r["seconds"].items()}, "profiles:", r["resolve"]["profiles"])
PY
