#!/usr/bin/env bash
# Virtual environments for the peers the benchmarks compare against (their pins clash with contextvec's).
#   scripts/install_peers.sh infinity   -> $INFINITY_VENV (default /work/venvs/infinity): infinity-emb 0.0.78,
#                                          torch and ONNX Runtime engines (benchmarks/peers/infinity.py uses it)
# Idempotent; safe to re-run.
set -euo pipefail
what=${1:-}
PY=${PYTHON:-python3}
PIP_QUIET=${PIP_QUIET:--q}

case "$what" in
  infinity)
    VENV=${INFINITY_VENV:-/work/venvs/infinity}
    if [ ! -x "$VENV/bin/python" ]; then
      "$PY" -m venv "$VENV"   # a clean venv: never --system-site-packages
    fi
    pip() { "$VENV/bin/python" -m pip "$PIP_QUIET" --disable-pip-version-check "$@"; }
    # torch first and pinned (the CPU wheel): an unpinned torch would pull gigabytes of CUDA wheels.
    pip install "torch==2.13.0"
    # [all]: the torch engine (sentence-transformers) and the optimum engine (optimum + onnxruntime), the server
    pip install "torch==2.13.0" "infinity-emb[all]==0.0.78"
    # [all] also pulls torchvision (and timm, which needs it) from PyPI: a CUDA build whose operators do not load
    # with the CPU torch ("operator torchvision::nms does not exist"), which breaks every transformers import.
    # Text embedding needs neither, and no CPU build of torchvision 0.28 is on the index here.
    "$VENV/bin/python" -m pip uninstall -y -q torchvision timm
    "$VENV/bin/python" -c "import infinity_emb, optimum.onnxruntime; print('infinity-emb', infinity_emb.__version__)" ;;
  *) echo "usage: scripts/install_peers.sh infinity" >&2; exit 2 ;;
esac
