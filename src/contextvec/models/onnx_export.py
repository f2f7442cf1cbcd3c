"""Export a transformers model to ONNX with every hidden state as an output, optimise it, and (for int8)
quantize it: built once into the model cache, atomically, keyed by the weights, contextvec's version, the opset
and the precision. Encoders are exported at opset 23, where attention becomes ONNX's own Attention op, which ONNX
Runtime runs as one kernel (scores, mask, softmax and mixing fused; opset 18 left them as separate float32 ops).
Rotary decoders stay at opset 18 (see `opset_for`).

The int8 recipe was chosen by measurement (docs/backends.md): ONNX Runtime dynamic quantization, QInt8
weights per output channel (U8S8: the fast path on AVX-512 VNNI and AVX-VNNI CPUs), only MatMuls with a weight
(never attention's activation x activation products), and the feed-forward down-projections (the MatMul after
GELU, whose inputs have the widest range) kept in float32. Per-tensor weights, or every MatMul, fall below the
parity bar (cosine 0.99 to torch float32).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path
from typing import Any

from contextvec import __version__
from contextvec.errors import ModelLoadError
from contextvec.models.cache import build_once, cache_root

logger = logging.getLogger(__name__)

MODEL_FILE = "model.onnx"
META_FILE = "contextvec-onnx.json"
OPSET = 23  # opset 23 has a standard Attention op: the exporter maps SDPA to it and ORT runs it fused
ROTARY_OPSET = 18  # at 23 the exporter also writes rotary positions as RotaryEmbedding, which ORT 1.31 rejects
ENCODERS = {"bert", "mpnet", "roberta", "xlm-roberta"}  # learned positions: the models exported at OPSET


def opset_for(config: Any) -> int:
    """OPSET for encoders with learned positions; ROTARY_OPSET for rotary decoders (Llama-shaped), whose opset-23
    graph fails in ONNX Runtime ("cos_cache and sin_cache are expected to have the same shape as input x")."""
    return OPSET if config.model_type in ENCODERS else ROTARY_OPSET


INT8_RECIPE = {
    "weight_type": "QInt8",
    "per_channel": True,
    "reduce_range": False,
    "op_types": ["MatMul"],
    "kept_float32": ["MatMul without a weight initializer", "feed-forward down-projection (MatMul after GELU)"],
}


def weights_fingerprint(model: Any) -> str:
    """A short hash of the model's config and every weight: another model (or retrained weights) gets another
    cache entry."""
    h = hashlib.blake2b(digest_size=8)
    h.update(model.config.to_json_string().encode())
    for name, tensor in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(tensor.detach().float().contiguous().cpu().numpy().tobytes())
    return h.hexdigest()


def onnx_entry(model: Any, model_id: str, precision: str) -> Path:
    """The cache folder holding `model` exported for ONNX Runtime at `precision` ("float32" or "int8")."""
    slug = "".join(c if c.isalnum() else "-" for c in Path(model_id).name.lower())[:40] or "model"
    recipe = f"v{__version__}-opset{opset_for(model.config)}"  # a new recipe, a new entry
    final = cache_root() / "onnx" / f"{slug}-{weights_fingerprint(model)}-{recipe}-{precision}"

    def build(tmp: Path) -> None:
        started = time.perf_counter()
        logger.warning("exporting %s to ONNX (%s) once into %s; this takes a minute", model_id, precision, final)
        try:
            if precision == "int8":  # quantize the float32 entry (exported first if missing)
                quantize_int8(onnx_entry(model, model_id, "float32") / MODEL_FILE, tmp / MODEL_FILE)
            else:
                export_all_states(model, tmp / "raw.onnx")
                optimise(tmp / "raw.onnx", tmp / MODEL_FILE, model.config)
                (tmp / "raw.onnx").unlink()
        except ModelLoadError:
            raise
        except Exception as exc:  # the exporter and optimiser raise many types; one clear error
            raise ModelLoadError(
                f"could not export model {model_id!r} to ONNX ({type(exc).__name__}: {str(exc)[:300]}); "
                "use backend='torch' for this model."
            ) from exc
        meta: dict[str, Any] = {"model_id": model_id, "precision": precision, "contextvec": __version__}
        if precision == "int8":
            meta["int8_recipe"] = INT8_RECIPE
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
        logger.warning("exported %s to ONNX (%s) in %.0f s", model_id, precision, time.perf_counter() - started)

    return build_once(final, build, lambda p: (p / MODEL_FILE).is_file() and (p / META_FILE).is_file())


def export_all_states(model: Any, path: Path, opset: int | None = None) -> None:
    """torch.onnx.export (the dynamo exporter) of ids (B, T), mask (B, T) -> hidden_0..hidden_L, each (B, T, D),
    with dynamic batch and sequence axes."""
    import torch

    from contextvec.models.backend import _is_causal

    layers = int(model.config.num_hidden_layers)
    causal = _is_causal(model.config)

    class AllStates(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
            extra = {"use_cache": False} if causal else {}
            out = self.model(
                input_ids=input_ids, attention_mask=attention_mask, output_hidden_states=True, return_dict=True, **extra
            )
            return tuple(out.hidden_states)

    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # a padded row, so the exported graph keeps the masking path
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=4096)
    names = [f"hidden_{i}" for i in range(layers + 1)]
    with torch.no_grad():
        torch.onnx.export(
            AllStates().eval(),
            (ids, mask),
            str(path),
            input_names=["input_ids", "attention_mask"],
            output_names=names,
            dynamic_shapes=({0: batch, 1: seq}, {0: batch, 1: seq}),
            opset_version=opset or opset_for(model.config),
            dynamo=True,
            external_data=False,
            verbose=False,
        )


def optimise(src: Path, dst: Path, config: Any) -> None:
    """ONNX Runtime's transformer optimizer (fused LayerNorm, GELU, bias adds), saved as a portable graph; the
    session adds its hardware-specific optimisations at load time."""
    from onnxruntime.transformers.optimizer import optimize_model

    model_type = "bert" if config.model_type in ENCODERS else "gpt2"
    heads = int(getattr(config, "num_attention_heads", 0))
    hidden = int(config.hidden_size)
    quiet = logging.getLogger("onnxruntime")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        opt = optimize_model(str(src), model_type=model_type, num_heads=heads, hidden_size=hidden)
    finally:
        quiet.setLevel(level)
    opt.save_model_to_file(str(dst))


def quantize_int8(src: Path, dst: Path) -> None:
    """Dynamic int8 quantization by the recipe in INT8_RECIPE (see the module doc)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src)).graph
    weights = {i.name for i in graph.initializer}
    gelu_out = {o for n in graph.node if "gelu" in n.op_type.lower() for o in n.output}
    keep = [
        n.name for n in graph.node if n.op_type == "MatMul" and (n.input[1] not in weights or n.input[0] in gelu_out)
    ]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # quantize_dynamic logs a pre-processing hint on the root logger
    try:
        quantize_dynamic(
            str(src),
            str(dst),
            weight_type=QuantType.QInt8,
            per_channel=True,
            reduce_range=False,
            op_types_to_quantize=["MatMul"],
            nodes_to_exclude=keep,
        )
    finally:
        root.setLevel(level)
