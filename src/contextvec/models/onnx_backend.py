"""The ONNX Runtime backend: the same contract as `TorchBackend` (models/contract.py), with the forward pass run
by ONNX Runtime on the CPU from a graph exported once into the model cache (models/onnx_export.py).

Tokenization, the special-token template, the window size and `info` are the torch backend's own (it is built
first and its tokenizer kept), so everything above the forward pass (windows, words, spans, sentences,
corrections, recipes) is unchanged; only the hidden states' numbers differ (float32: at rounding level; int8:
see docs/backends.md).
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contextvec.errors import ModelLoadError, OptionError
from contextvec.models.backend import Encoded, TorchBackend
from contextvec.models.onnx_export import MODEL_FILE, onnx_entry

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

ONNX_PRECISIONS = ("float32", "int8")


class OnnxBackend:
    """A transformers model exported to ONNX (every hidden state an output), run by ONNX Runtime on the CPU."""

    name = "onnx"

    def __init__(
        self, source: TorchBackend, precision: str = "float32", *, threads: int | None = None, free_source: bool = False
    ) -> None:
        if precision not in ONNX_PRECISIONS:
            raise OptionError(
                f"dtype={precision!r} is not available with backend='onnx' (choose float32 or int8); "
                "bfloat16 and float16 run with backend='torch'."
            )
        if source.device.type != "cpu":
            raise OptionError(f"backend='onnx' runs on the CPU; device={str(source.device)!r} needs backend='torch'.")
        self.info = source.info
        self.prefix_ids, self.suffix_ids, self.pad_id = source.prefix_ids, source.suffix_ids, source.pad_id
        self.tokenizer = source.tokenizer
        self.precision = precision
        self.folder = onnx_entry(source.model, source.info.model_id, precision)
        if free_source:  # drop torch's copy of the weights before the session loads its own (lower peak memory)
            del source.model, source.fast
            gc.collect()
        self.session = _session(self.folder / MODEL_FILE, threads)
        self.output_names = [o.name for o in self.session.get_outputs()]
        if len(self.output_names) != self.info.num_layers + 1:
            raise ModelLoadError(
                f"ONNX graph in {self.folder} has {len(self.output_names)} outputs, expected "
                f"{self.info.num_layers + 1} hidden states; delete the folder and run again."
            )

    def tokenize(self, texts: Sequence[str]) -> list[Encoded]:
        return TorchBackend.tokenize(self, texts)  # type: ignore[arg-type]  # the same tokenizer, the same code

    def piece(self, token_id: int) -> str:
        return self.tokenizer.id_to_token(token_id) or ""

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """(B, T) ids and mask -> L+1 hidden states, each (B, T, D) float32 on the CPU."""
        import torch

        feeds = {
            "input_ids": input_ids.to(torch.long).cpu().numpy(),
            "attention_mask": attention_mask.to(torch.long).cpu().numpy(),
        }
        states = self.session.run(self.output_names, feeds)  # (L+1) x (B, T, D)
        return tuple(torch.from_numpy(s) for s in states)

    def attentions(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        raise OptionError(
            "attention maps come from the torch backend (the ONNX graph returns hidden states only); "
            "load the model with backend='torch' to see attention."
        )

    @property
    def size_on_disk(self) -> int:
        """Bytes of the exported graph (weights included)."""
        return (self.folder / MODEL_FILE).stat().st_size


def _session(path: Path, threads: int | None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads is not None:
        options.intra_op_num_threads = threads
    options.log_severity_level = 3  # errors only: ORT's warnings about unused initializers are noise here
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # ORT raises its own exception types (Fail, InvalidGraph, ...): one clear error
        raise ModelLoadError(
            f"ONNX Runtime could not load {path} ({type(exc).__name__}: {str(exc)[:300]}); delete "
            f"{os.path.dirname(path)} to rebuild it, or use backend='torch'."
        ) from exc
