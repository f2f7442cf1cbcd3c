"""The backend contract every contextual model meets, and the one choice of backend for a model folder.

    tokenize(texts)            -> per text: content token ids (n,) and char offsets (n, 2), no special tokens
    forward(ids (B, T), mask)  -> L+1 hidden states, each (B, T, D)

TorchBackend (transformers encoders and decoders) and ElmoBackend (biLSTM folders from `contextvec train elmo`)
implement it; the engine, the embedder and the attention view use nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from contextvec.models.backend import DType, Encoded, ModelInfo, TorchBackend

if TYPE_CHECKING:
    import torch


class Backend(Protocol):
    info: ModelInfo
    prefix_ids: list[int]  # special tokens before a window's content (e.g. [CLS], <s>)
    suffix_ids: list[int]  # and after it (e.g. [SEP], </s>)
    pad_id: int

    def tokenize(self, texts: Sequence[str]) -> list[Encoded]: ...

    def piece(self, token_id: int) -> str: ...

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> tuple[torch.Tensor, ...]: ...

    def attentions(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor: ...


def load_backend(
    model: str,
    *,
    device: str = "auto",
    dtype: DType = "float32",
    max_length: int | None = None,
    fast_path: bool = True,
) -> Backend:
    """The backend for `model`, chosen by its folder's config.json: ELMo for contextvec's own biLSTM folders,
    transformers for everything else (offline names, folders, .gguf files, hub ids)."""
    from contextvec.models.elmo import MODEL_TYPE, read_model_type
    from contextvec.models.registry import resolve_model

    resolved = resolve_model(model)
    if resolved.source != "hub" and read_model_type(resolved.path) == MODEL_TYPE:
        from contextvec.models.elmo_backend import ElmoBackend

        return ElmoBackend.load(resolved.path, resolved.model_id, device=device, dtype=dtype, max_length=max_length)
    return TorchBackend.load(model, device=device, dtype=dtype, max_length=max_length, fast_path=fast_path)
