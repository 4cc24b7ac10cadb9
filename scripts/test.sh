#!/usr/bin/env bash
# Runs every test suite of the project. On a fresh machine it needs only what the machine has
# (cargo with nextest); whatever else a suite needs, this script installs.
#
# The Rust suites build with the `ci` profile (optimized, debug assertions on, no LTO) so that
# dependencies compile once for every suite. Set CARGO_TARGET_DIR to reuse builds across runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# The napi-rs CLI always builds with an explicit `--target`, which cargo keeps in its own
# folder of the target directory; every build here names the host's target too, so that all
# of them (Rust suites, Python and Node packages) share one set of compiled dependencies.
CARGO_BUILD_TARGET="${CARGO_BUILD_TARGET:-$(rustc -vV | sed -n 's/^host: //p')}"
export CARGO_BUILD_TARGET

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
# The Python binding is a cdylib for the interpreter to load; its suite is the Python one below
# (the Node binding's Rust tests run here; its JavaScript suite runs below).
cargo nextest run --workspace --exclude omnitwin-python --cargo-profile ci --no-fail-fast

echo "== Rust: doc tests"
cargo test --workspace --exclude omnitwin-python --doc --profile ci 2> >(grep -v 'doc tests are not supported for crate type' >&2)

echo "== the README's main command, on the bundled sample"
out="$(mktemp -d)"
# The binary the Rust suites built (`cargo run` would build it again with other features).
bin="${CARGO_TARGET_DIR:-target}/$CARGO_BUILD_TARGET/ci/omnitwin"
[ -x "$bin" ] || cargo build --profile ci --quiet --bin omnitwin
"$bin" resolve --input examples/data/touchpoints.csv --out "$out" --quiet
test -s "$out/assignments.csv" && test -s "$out/profiles.parquet" && test -s "$out/report.json"
rm -rf "$out"
echo "== Python: the package built by maturin (ci profile, the same target directory), its suite and its stubs"
venv="${XDG_CACHE_HOME:-$HOME/.cache}/omnitwin/py-venv"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install --quiet --disable-pip-version-check -r bindings-python/requirements-test.txt
PATH="$venv/bin:$PATH" MATURIN_PEP517_ARGS="--profile ci" \
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-build-isolation --no-deps --force-reinstall ./bindings-python
"$venv/bin/python" -m pytest -q -p no:cacheprovider bindings-python/tests
"$venv/bin/python" -m mypy.stubtest omnitwin._omnitwin
"$venv/bin/python" -m mypy --strict --no-incremental bindings-python/tests/usage_typed.py

echo "== Node: the package built by napi-rs (ci profile, the same target directory), its suite and its types"
(
  cd bindings-node
  npm ci --no-audit --no-fund --loglevel=error
  npm run --silent build
  node --test tests/
)

echo "== fuzzing (bounded; OMNITWIN_FUZZ_SECONDS per target)"
bash scripts/fuzz.sh

echo "all suites passed"
