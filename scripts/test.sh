#!/usr/bin/env bash
# Runs every test suite of the project. On a fresh machine it needs only what the machine has
# (cargo with nextest); whatever else a suite needs, this script installs.
#
# The Rust suites build with the `ci` profile (optimized, debug assertions on, no LTO) so that
# dependencies compile once for every suite. Set CARGO_TARGET_DIR to reuse builds across runs.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! cargo nextest --version >/dev/null 2>&1; then
  echo "== installing cargo-nextest"
  cargo install cargo-nextest --locked
fi

if cargo fmt --version >/dev/null 2>&1; then
  echo "== rustfmt"
  cargo fmt --all -- --check
fi

if cargo clippy --version >/dev/null 2>&1; then
  echo "== clippy"
  cargo clippy --workspace --all-targets --profile ci -- -D warnings
fi

echo "== Rust: unit, integration and property tests"
cargo nextest run --workspace --cargo-profile ci --no-fail-fast

echo "== Rust: doc tests"
cargo test --workspace --doc --profile ci

echo "== the README's main command, on the bundled sample"
out="$(mktemp -d)"
cargo run --profile ci --quiet --bin omnitwin -- resolve --input examples/data/touchpoints.csv --out "$out" --quiet
test -s "$out/assignments.csv" && test -s "$out/profiles.parquet" && test -s "$out/report.json"
rm -rf "$out"
echo "all suites passed"
