"""Where ONNX Runtime spends a model's time, float32 and int8: share of kernel time per op type, from ORT's own
profiler, over 400 Lee sentences. Writes benchmarks/results/onnx-profile-MODEL.json.

    python benchmarks/onnx_profile.py minilm
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

import onnxruntime as ort
from harness import write_result
from throughput import load_sentences

from contextvec import Embedder


def main() -> None:
    model = sys.argv[1] if len(sys.argv) > 1 else "minilm"
    out = {}
    for precision in ("float32", "int8"):
        emb = Embedder(model, backend="onnx", dtype=precision)  # type: ignore[arg-type]
        options = ort.SessionOptions()
        options.enable_profiling = True
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        backend = emb.backend
        backend.session = ort.InferenceSession(  # type: ignore[attr-defined]
            str(backend.folder / "model.onnx"),  # type: ignore[attr-defined]
            options,
            providers=["CPUExecutionProvider"],
        )
        emb.embed_words(load_sentences(400), layers=-1)
        trace_file = Path(backend.session.end_profiling())  # type: ignore[attr-defined]
        trace = json.loads(trace_file.read_text())
        trace_file.unlink()
        per_op: collections.Counter[str] = collections.Counter()
        for event in trace:
            if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
                per_op[event["args"]["op_name"]] += event["dur"]
        total = sum(per_op.values())
        out[precision] = {k: round(v / total, 3) for k, v in per_op.most_common(12)}
        print(precision, "node time s", total / 1e6, out[precision], flush=True)
    write_result(f"onnx-profile-{model}.json", out)


if __name__ == "__main__":
    main()
