"""WiC accuracy (contextvec's WordNet WiC test split, the model's recipe) for torch float32, ONNX float32 and
ONNX int8: what the faster backends cost on a task. Writes benchmarks/results/wic-backends-MODEL.json.

    python benchmarks/wic_backends.py minilm
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from contextvec import Embedder
from contextvec.eval.wic import build_wordnet_pairs
from contextvec.eval.wic_file import score_wic_pairs

BACKENDS: dict[str, dict[str, Any]] = {
    "torch-float32": {},
    "onnx-float32": {"backend": "onnx"},
    "onnx-int8": {"backend": "onnx", "dtype": "int8"},
}


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "minilm"
    train, test = build_wordnet_pairs(test_share=0.3, seed=0)
    out: dict[str, Any] = {"model": model, "train_pairs": len(train), "test_pairs": len(test), "rows": {}}
    for name, kwargs in BACKENDS.items():
        t0 = time.time()
        res = score_wic_pairs(Embedder(model, device="cpu", **kwargs), train, test)
        out["rows"][name] = res["scores"]
        print(name, round(time.time() - t0), json.dumps(res["scores"][0]), flush=True)
    path = Path(__file__).parent / "results" / f"wic-backends-{model}.json"
    path.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
