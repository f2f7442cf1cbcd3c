"""What the faster backends cost on tasks: WiC accuracy (contextvec's WordNet WiC test split, the model's recipe)
and the POS probe (Brown, linear probe per layer, the eval suite's sizes) for torch float32, ONNX float32 and ONNX
int8. Merges into benchmarks/results/wic-backends-MODEL.json (WiC under "rows", POS under "pos").

    python benchmarks/wic_backends.py minilm
    python benchmarks/wic_backends.py mpnet --tasks wic,pos --backends torch-float32,onnx-int8
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from harness import heavy_lock, read_result, write_result

from contextvec import Embedder
from contextvec.eval.suite import SuiteSizes, run_pos
from contextvec.eval.wic import build_wordnet_pairs
from contextvec.eval.wic_file import score_wic_pairs

BACKENDS: dict[str, dict[str, Any]] = {
    "torch-float32": {},
    "onnx-float32": {"backend": "onnx"},
    "onnx-int8": {"backend": "onnx", "dtype": "int8"},
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", default="minilm")
    ap.add_argument("--tasks", default="wic", help="comma-separated: wic, pos")
    ap.add_argument("--backends", default=",".join(BACKENDS))
    args = ap.parse_args()
    target = f"wic-backends-{args.model}.json"
    out: dict[str, Any] = read_result(target) or {"model": args.model}
    out.pop("machine", None)  # this run's machine replaces the last one's
    tasks = args.tasks.split(",")
    if "wic" in tasks:
        train, test = build_wordnet_pairs(test_share=0.3, seed=0)
        out.update(train_pairs=len(train), test_pairs=len(test))
    with heavy_lock():
        for name in args.backends.split(","):
            emb = Embedder(args.model, device="cpu", **BACKENDS[name])
            if "wic" in tasks:
                t0 = time.time()
                res = score_wic_pairs(emb, train, test)
                out.setdefault("rows", {})[name] = res["scores"]
                print(name, "wic", round(time.time() - t0), json.dumps(res["scores"][0]), flush=True)
                write_result(target, out)  # after every task: a killed run keeps what it measured
            if "pos" in tasks:
                t0 = time.time()
                pos = run_pos(emb, SuiteSizes())
                best = max(range(len(pos["per_layer"])), key=lambda k: pos["per_layer"][k])
                out.setdefault("pos", {})[name] = {**pos, "seconds": time.time() - t0}
                print(name, "pos", round(time.time() - t0), "best layer", best, pos["per_layer"][best], flush=True)
            write_result(target, out)


if __name__ == "__main__":
    main()
