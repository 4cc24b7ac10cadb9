#!/usr/bin/env bash
# Fuzzes every target in fuzz/ (each parser of outside data, and the store file) under libFuzzer
# for a bounded time: OMNITWIN_FUZZ_SECONDS per target (default 20; 0 skips fuzzing). Needs a
# nightly toolchain; without one it says so and stops (the corpus and every past crash still
# replay on stable, in tests/fuzz_corpus.rs). New inputs that reach new code stay in a
# scratch folder, not in the committed corpus; a crash is written to fuzz/regressions/<target>/
# (commit it: it becomes a regression test) and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${OMNITWIN_FUZZ_SECONDS:-20}"
if [ "$seconds" = "0" ]; then
  echo "== fuzzing: skipped (OMNITWIN_FUZZ_SECONDS=0)"
  exit 0
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "== fuzzing: skipped, no nightly toolchain here (rustup toolchain install nightly to fuzz);"
  echo "   the corpus and past crashes were replayed on stable by tests/fuzz_corpus.rs"
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

# Instrumented builds differ from every other build: their own target directory, outside the clone
# when the caller keeps builds outside it.
target_dir="${CARGO_TARGET_DIR:-target}/fuzz"
echo "== fuzzing: building the targets (nightly, libFuzzer, AddressSanitizer)"
cargo +nightly fuzz build --fuzz-dir fuzz --target-dir "$target_dir" -O --debug-assertions

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
# The targets' scratch files (one folder per fuzzing process) go with the rest.
mkdir -p "$scratch/tmp"
export TMPDIR="$scratch/tmp"
summary=()
for target in $(cargo +nightly fuzz list --fuzz-dir fuzz); do
  mkdir -p "$scratch/$target" "fuzz/regressions/$target"
  log="$scratch/$target.log"
  if ! cargo +nightly fuzz run --fuzz-dir fuzz --target-dir "$target_dir" -O --debug-assertions "$target" \
      "$scratch/$target" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=4096 -timeout=30 -max_len=65536 \
      -artifact_prefix="fuzz/regressions/$target/" >"$log" 2>&1; then
    grep -m5 -E 'panicked at|ERROR: |deadly signal|out-of-memory|timeout' "$log" || true
    tail -15 "$log"
    echo "fuzzing: $target crashed; the input is in fuzz/regressions/$target/ (commit it)" >&2
    exit 1
  fi
  runs="$(grep -o 'Done [0-9]* runs' "$log" | tail -1 | grep -o '[0-9]*' || echo '?')"
  summary+=("$target: $runs executions in ${seconds}s")
done
echo "== fuzzing: no crash"
printf '   %s\n' "${summary[@]}"
