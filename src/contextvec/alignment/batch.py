"""A batch of texts as model input plus the index arrays that take the forward output back to each text's tokens.

The same tokenization, windows (`plan_windows`) and window merge (`window_owner`) as the inference engine, for
callers that run the forward pass themselves with gradients (fine-tuning): the output's (Bw, T, D) hidden states,
flattened to (Bw*T, D), hold text i's merged content tokens at rows `token_rows[i]`. Pooling those rows (words
via `align_words`, spans, whole texts) with `pooling.subwords.mean_matrix` gives the vectors the engine gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from contextvec.alignment.windows import plan_windows, window_owner
from contextvec.errors import InvalidInputError
from contextvec.models.backend import Encoded, TorchBackend

if TYPE_CHECKING:
    import torch

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class ForwardBatch:
    input_ids: torch.Tensor  # (Bw, T) one row per window, right-padded
    attention_mask: torch.Tensor  # (Bw, T)
    encoded: list[Encoded]  # per text: content token ids and char offsets
    token_rows: list[I64]  # per text (n_i,): rows of the flattened (Bw*T) output, one per content token

    @property
    def size(self) -> int:
        """Rows of the flattened output, Bw*T."""
        return int(self.input_ids.numel())


def forward_batch(backend: TorchBackend, texts: Sequence[str], stride: int) -> ForwardBatch:
    """Tokenize `texts`, cut each into the engine's windows and build the padded ids, mask and token rows."""
    import torch

    info = backend.info
    prefix, suffix = backend.prefix_ids, backend.suffix_ids
    P = len(prefix)
    capacity = info.max_length - P - len(suffix)
    encoded = backend.tokenize(texts)
    plans = []
    for d, enc in enumerate(encoded):
        if len(enc.ids) == 0:
            raise InvalidInputError(
                f"text {d} ({texts[d][:40]!r}) gives no tokens with model {info.model_id!r}: its tokenizer drops "
                "every character in it. Remove the text or use another model."
            )
        plans.append(plan_windows(len(enc.ids), capacity, stride))
    T = max(e - s for windows in plans for s, e in windows) + P + len(suffix)
    Bw = sum(len(w) for w in plans)
    ids = torch.full((Bw, T), backend.pad_id, dtype=torch.long)
    mask = torch.zeros((Bw, T), dtype=torch.long)
    token_rows: list[I64] = []
    b = 0
    for enc, windows in zip(encoded, plans, strict=True):
        first = b
        for s, e in windows:
            row = np.concatenate([prefix, enc.ids[s:e], suffix])
            ids[b, : len(row)] = torch.from_numpy(row)
            mask[b, : len(row)] = 1
            b += 1
        owner, pos = window_owner(windows, len(enc.ids), info.causal)  # (n,), (n,) window and row within it
        token_rows.append((first + owner) * T + P + pos)  # (n,) rows of the flattened (Bw*T) output
    return ForwardBatch(ids, mask, encoded, token_rows)
