"""What the loop feeds a network: a batch of right-padded rows, and the 15% / 80-10-10 masking of BERT."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import torch

IGNORE = -100  # the label cross-entropy skips


@dataclass(frozen=True)
class Batch:
    ids: torch.Tensor  # (B, T) token ids, right-padded
    mask: torch.Tensor  # (B, T) 1 = real token
    labels: torch.Tensor | None  # (B, T) targets (IGNORE = none), for mlm / causal
    tokens: int  # real tokens in the batch (for tokens/s)


def pad_rows(rows: list[npt.NDArray[np.int64]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of different lengths -> (B, T) ids right-padded with pad_id, and the (B, T) mask."""
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), T), dtype=torch.long)
    for b, r in enumerate(rows):
        ids[b, : len(r)] = torch.from_numpy(r)
        mask[b, : len(r)] = 1
    return ids, mask


def random_windows(
    stream: npt.NDArray[np.int64], n: int, length: int, gen: torch.Generator
) -> list[npt.NDArray[np.int64]]:
    """n windows of `length` tokens at random starts in a token stream (shorter streams: the whole stream)."""
    if len(stream) <= length:
        return [stream.copy() for _ in range(n)]
    starts = torch.randint(0, len(stream) - length + 1, (n,), generator=gen).tolist()
    return [stream[s : s + length].copy() for s in starts]


def mask_tokens(
    ids: torch.Tensor, maskable: torch.Tensor, mask_id: int, vocab_size: int, gen: torch.Generator, rate: float = 0.15
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: `rate` of the maskable positions become targets; of those 80% -> [MASK], 10% -> a random
    token, 10% kept. Returns the corrupted (B, T) ids and the (B, T) labels (IGNORE where not a target)."""
    chosen = (torch.rand(ids.shape, generator=gen) < rate) & maskable.bool()  # (B, T)
    if not chosen.any() and maskable.any():  # e.g. one-word rows: a batch without targets would give a NaN loss
        first = int(maskable.flatten().nonzero()[0])
        chosen.view(-1)[first] = True
    labels = torch.where(chosen, ids, torch.full_like(ids, IGNORE))
    roll = torch.rand(ids.shape, generator=gen)  # (B, T): < 0.8 mask, 0.8..0.9 random, >= 0.9 keep
    randoms = torch.randint(0, vocab_size, ids.shape, generator=gen)
    out = torch.where(chosen & (roll < 0.8), torch.full_like(ids, mask_id), ids)
    out = torch.where(chosen & (roll >= 0.8) & (roll < 0.9), randoms, out)
    return out, labels
