"""Export a transformers model to ONNX with every hidden state as an output, optimise it, and (for int8)
quantize it: built once into the model cache, atomically, keyed by the weights, contextvec's version, the opset
and the precision. Encoders are exported at opset 23, where attention becomes ONNX's own Attention op, which ONNX
Runtime runs as one kernel (scores, mask, softmax and mixing fused; opset 18 left them as separate float32 ops).
Rotary decoders stay at opset 18 (see `opset_for`).

The int8 recipe was chosen by measurement (docs/backends.md): ONNX Runtime dynamic quantization, QInt8
weights per output channel (U8S8: the fast path on AVX-512 VNNI and AVX-VNNI CPUs), only MatMuls with a weight
(never attention's activation x activation products), and the feed-forward down-projections (whose inputs, after
the activation, have the widest range) kept in float32. The down-projections are found by their weights' shape,
whatever the activation (GELU, SiLU/SwiGLU): see `down_projections`. Per-tensor weights, or every MatMul, fall
below the parity bar (cosine 0.99 to torch float32).

The exporter, optimiser and quantizer are noisy (warnings about torchvision, axis names, "failed in shape
inference", a pre-processing hint on the root logger): `quiet_third_party` keeps that from the user within the
export, through their own named loggers, a scoped warnings filter and a scoped filter on the root logger, all
restored afterwards; what they printed is logged at DEBUG here.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import time
import warnings
from collections.abc import Iterator
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
    "kept_float32": [
        "MatMul without a weight initializer",
        "feed-forward down-projection (weight F x D back to the model width, found by shape)",
    ],
}
# third-party loggers that report routine events of an export at WARNING (onnxruntime.transformers' own modules
# log under their bare module names, e.g. "fusion_skiplayernorm": `quiet_third_party` adds those)
NOISY_LOGGERS = ("onnxruntime", "onnx", "onnxscript", "onnx_ir", "torch.onnx", "torch.export", "torch._export")


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
        logger.info("exporting %s to ONNX (%s) once into %s; this takes a minute", model_id, precision, final)
        kept: list[str] = []
        try:
            if precision == "int8":  # quantize the float32 entry (exported first if missing)
                source = onnx_entry(model, model_id, "float32") / MODEL_FILE
                with quiet_third_party():
                    kept = quantize_int8(source, tmp / MODEL_FILE)
            else:
                with quiet_third_party():
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
            meta["down_projections_float32"] = kept
        (tmp / META_FILE).write_text(json.dumps(meta, indent=2))
        logger.info("exported %s to ONNX (%s) in %.0f s", model_id, precision, time.perf_counter() - started)

    return build_once(final, build, lambda p: (p / MODEL_FILE).is_file() and (p / META_FILE).is_file())


def export_all_states(model: Any, path: Path, opset: int | None = None) -> None:
    """torch.onnx.export (the dynamo exporter) of ids (B, T), mask (B, T) -> hidden_0..hidden_L, each (B, T, D),
    with dynamic batch and sequence axes."""
    import torch

    from contextvec.models.inspect import is_causal

    layers = int(model.config.num_hidden_layers)
    causal = is_causal(model.config)

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
    opt = optimize_model(str(src), model_type=model_type, num_heads=heads, hidden_size=hidden)
    opt.save_model_to_file(str(dst))


def down_projections(graph: Any) -> list[str]:
    """The feed-forward down-projections of an exported graph, found by structure, not by op names: MatMuls whose
    weight maps a width F back to the model width D, shape (F, D) with F != D, where the graph also has MatMuls
    mapping D to F (the up- or gate-projections). GELU (BERT, MPNet) and SwiGLU (Llama) blocks both match;
    attention's projections (D, D) or (D, D_kv) do not."""
    width = int(graph.output[0].type.tensor_type.shape.dim[-1].dim_value)  # hidden_0: (B, T, D)
    shapes = {i.name: tuple(i.dims) for i in graph.initializer}
    weights = [(n.name, shapes.get(n.input[1], ())) for n in graph.node if n.op_type == "MatMul"]
    widths = {s[1] for _, s in weights if len(s) == 2 and s[0] == width and s[1] != width}
    return [name for name, s in weights if len(s) == 2 and s[1] == width and s[0] in widths]


def quantize_int8(src: Path, dst: Path) -> list[str]:
    """Dynamic int8 quantization by the recipe in INT8_RECIPE (see the module doc); returns the names of the
    down-projections kept in float32 (one per block, or a ModelLoadError)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(src)).graph
    weights = {i.name for i in graph.initializer}
    down = down_projections(graph)
    blocks = len(graph.output) - 1  # hidden_0..hidden_L
    if len(down) != blocks:
        raise ModelLoadError(
            f"the int8 recipe keeps each block's feed-forward down-projection in float32, but {src} has "
            f"{len(down)} of them for {blocks} blocks; use dtype='float32' (or backend='torch') for this model."
        )
    keep = [n.name for n in graph.node if n.op_type == "MatMul" and n.input[1] not in weights] + down
    quantize_dynamic(
        str(src),
        str(dst),
        weight_type=QuantType.QInt8,
        per_channel=True,
        reduce_range=False,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=keep,
    )
    return down


class _FromPackages(logging.Filter):
    """Drops records below ERROR that third-party packages log straight to the root logger."""

    def __init__(self, folders: tuple[str, ...]) -> None:
        super().__init__()
        self.folders = folders

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or not record.pathname.startswith(self.folders)


@contextlib.contextmanager
def quiet_third_party() -> Iterator[None]:
    """Within the block, the exporter's, optimiser's and quantizer's warnings, log records below ERROR and
    prints do not reach the user; the named loggers' levels, the warnings filters and the root logger's
    filters are restored afterwards, and what was printed is logged here at DEBUG. Errors still surface."""
    import onnxruntime

    ort = Path(onnxruntime.__file__).parent
    names = [*NOISY_LOGGERS, *(p.stem for p in (ort / "transformers").glob("*.py"))]
    saved = {name: logging.getLogger(name).level for name in names}
    root, only_theirs = logging.getLogger(), _FromPackages((str(ort),))
    printed = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in names:
            logging.getLogger(name).setLevel(logging.ERROR)
        root.addFilter(only_theirs)  # quantize_dynamic logs its pre-processing hint with logging.warning()
        try:
            with contextlib.redirect_stdout(printed):  # onnxruntime prints "failed in shape inference"
                yield
        finally:
            root.removeFilter(only_theirs)
            for name, level in saved.items():
                logging.getLogger(name).setLevel(level)
            if printed.getvalue().strip():
                logger.debug("printed during the ONNX export: %s", printed.getvalue().strip())
