"""Does a fused attention kernel make the ONNX backend faster? minilm exported three ways, float32 and int8 (the
recipe of models/onnx_export.py), timed against contextvec's torch forward on the same batches:

  opset18 : the dynamo exporter at opset 18 — attention is separate MatMul / Where / Softmax ops
  opset23 : the dynamo exporter at opset 23 — SDPA becomes ONNX's own Attention op, one ORT kernel (the default)
  legacy  : the TorchScript exporter of eager attention + ORT's BERT attention fusion (com.microsoft Attention),
            int8 with the fused op quantized too (QAttention)

800 Lee sentences sorted by length, batches of 32 (as the backend batches them), each variant run on the same
padded batches, passes alternated over 6 rounds; medians and minimums, op census, and cosine of hidden states 3
and 6 to transformers on the first 5 batches. Writes benchmarks/results/onnx-attention-minilm.json.

    python benchmarks/onnx_attention.py
"""

from __future__ import annotations

import collections
import statistics
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import torch
from harness import heavy_lock, rounds, write_result
from throughput import load_sentences

from contextvec import Embedder
from contextvec.models import onnx_export


def export_legacy(model: Any, raw: Path) -> None:
    """The TorchScript exporter on eager attention (the graph ORT's BERT attention fusion recognises)."""
    layers = model.config.num_hidden_layers
    names = [f"hidden_{i}" for i in range(layers + 1)]

    class AllStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model  # a submodule, so the tracer sees its weights as parameters

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
            return tuple(self.model(input_ids=ids, attention_mask=mask, output_hidden_states=True).hidden_states)

    model.set_attn_implementation("eager")
    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    axes = {n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", *names]}
    try:
        with torch.no_grad():
            torch.onnx.export(AllStates(), (ids, mask), str(raw), input_names=["input_ids", "attention_mask"],
                              output_names=names, dynamic_axes=axes, opset_version=17, dynamo=False)  # fmt: skip
    finally:
        model.set_attn_implementation("sdpa")


def quantize_with_attention(src: Path, dst: Path) -> None:
    """The int8 recipe, plus the fused Attention op's QKV projection (QAttention)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src)).graph
    weights = {i.name for i in graph.initializer}
    gelu = {o for n in graph.node if "gelu" in n.op_type.lower() for o in n.output}
    keep = [n.name for n in graph.node if n.op_type == "MatMul" and (n.input[1] not in weights or n.input[0] in gelu)]
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, per_channel=True,
                     op_types_to_quantize=["MatMul", "Attention"], nodes_to_exclude=keep,
                     extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})  # fmt: skip


def build(model: Any, folder: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}
    for opset in (18, 23):
        raw, f32, i8 = (folder / f"opset{opset}-{k}.onnx" for k in ("raw", "float32", "int8"))
        onnx_export.export_all_states(model, raw, opset=opset)
        onnx_export.optimise(raw, f32, model.config)
        onnx_export.quantize_int8(f32, i8)
        files.update({f"opset{opset}-float32": f32, f"opset{opset}-int8": i8})
    raw, f32, i8 = folder / "legacy-raw.onnx", folder / "legacy-float32.onnx", folder / "legacy-int8.onnx"
    export_legacy(model, raw)
    onnx_export.optimise(raw, f32, model.config)
    quantize_with_attention(f32, i8)
    files.update({"legacy-float32": f32, "legacy-int8": i8})
    return files


def main() -> None:  # long: build, parity and alternating timing in one readable place
    emb = Embedder("minilm")
    backend: Any = emb.backend
    model = backend.model
    layers = model.config.num_hidden_layers
    sentences = sorted(load_sentences(800), key=len)
    feeds = []
    for i in range(0, len(sentences), 32):
        enc = backend.hf_tokenizer(sentences[i : i + 32], padding=True, return_tensors="np")
        feeds.append({k: enc[k].astype(np.int64) for k in ("input_ids", "attention_mask")})
    with torch.no_grad():
        ref = [model(**{k: torch.from_numpy(v) for k, v in f.items()}, output_hidden_states=True) for f in feeds[:5]]

    def torch_forward(f: dict[str, np.ndarray]) -> list[np.ndarray]:
        with torch.inference_mode():
            ids, mask = torch.from_numpy(f["input_ids"]), torch.from_numpy(f["attention_mask"])
            return [h.numpy() for h in backend.forward(ids, mask)]

    runs: dict[str, Any] = {"torch-float32": torch_forward}
    out: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in build(model, Path(tmp)).items():
            options = ort.SessionOptions()
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            runs[name] = lambda f, s=session: s.run(None, f)
            ops = collections.Counter(n.op_type for n in onnx.load(str(path)).graph.node)
            out[name] = {"ops": dict(ops.most_common(8)), "size_mb": path.stat().st_size / 1e6}
    for name, run in runs.items():
        cos = []
        for f, r in zip(feeds[:5], (x.hidden_states for x in ref), strict=True):
            states, mask = run(f), f["attention_mask"].astype(bool)
            for k in (3, layers):
                a, b = np.asarray(states[k])[mask], r[k].numpy()[mask]
                cos.append((a * b).sum(-1) / np.linalg.norm(a, axis=-1) / np.linalg.norm(b, axis=-1))
        c = np.concatenate(cos)
        out.setdefault(name, {})["parity"] = {"cos_mean": float(c.mean()), "cos_min": float(c.min())}
    passes = {name: lambda run=run: [run(f) for f in feeds] for name, run in runs.items()}
    with heavy_lock():
        times = rounds(passes, 6, warmup=0).wall
    for name, t in times.items():
        out[name].update(passes_s=t, median_s=statistics.median(t), min_s=min(t))
        print(f"{name:15s} median {statistics.median(t):.2f} s  min {min(t):.2f} s  {out[name]['parity']}")
    write_result("onnx-attention-minilm.json", out)


if __name__ == "__main__":
    main()
