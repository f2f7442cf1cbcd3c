"""The backend contract: what the spine (engine, embedder, attention) needs from a model, whoever runs it.

    tokenize(texts)            -> per text: content token ids (n,) and char offsets (n, 2), no special tokens
    forward(ids (B, T), mask)  -> L+1 hidden states, each (B, T, D), float tensors
    attentions(ids, mask)      -> (L, B, H, T, T) attention probabilities

plus `info` (layers, hidden size, window, causal or not), the special-token template and the padding id.
`TorchBackend` (models/backend.py), `OnnxBackend` (models/onnx_backend.py) and `ElmoBackend`
(models/elmo_backend.py, folders from `contextvec train elmo`) implement it; which one an `Embedder` gets is
decided in one place, models/select.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal, Protocol, runtime_checkable

from contextvec.models.backend import Encoded, ModelInfo

if TYPE_CHECKING:
    import torch

BackendName = Literal["torch", "onnx", "auto"]
# What a forward computes in, as asked for; "auto" is resolved once, at load, by models/select.py's
# `resolve_precision` (bfloat16 where the hardware runs it natively, else float32), never passed further down.
Precision = Literal["float32", "bfloat16", "float16", "int8", "auto"]
BACKENDS: tuple[BackendName, ...] = ("torch", "onnx", "auto")
RunPrecision = Literal["float32", "bfloat16", "float16", "int8"]  # what a loaded backend runs: "auto" resolved
PRECISIONS: tuple[Precision, ...] = ("float32", "bfloat16", "float16", "int8", "auto")
DEFAULT_BACKEND: BackendName = "torch"  # the one default of Embedder, the CLI and `contextvec serve`
DEFAULT_PRECISION: Precision = "float32"


@runtime_checkable
class Backend(Protocol):
    """A model and its tokenizer behind the contract above."""

    info: ModelInfo
    prefix_ids: list[int]  # ids before a window's content, e.g. [CLS]
    suffix_ids: list[int]  # ids after it, e.g. [SEP]
    pad_id: int
    name: str  # the runtime, "torch" or "onnx", for results and logs
    precision: str  # what the forward computes in: "float32", "bfloat16", "float16", "int8" (never "auto")

    def tokenize(self, texts: Sequence[str]) -> list[Encoded]: ...

    def piece(self, token_id: int) -> str: ...

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]: ...

    def attentions(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor: ...
