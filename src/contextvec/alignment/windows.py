"""Long texts as overlapping windows, and the merge that gives each token its best-context vector.

A text of n content tokens (special tokens excluded) that does not fit in one window of `capacity` tokens is
covered by windows that share `stride` tokens with their neighbour; the last window is aligned to the end of
the text so that it is full. When merging, each token keeps its vector from the window in which it has the most
context: for encoders the larger of the two smaller sides (left, right), for causal decoders the longer left
side. A side that reaches the start or end of the text counts as complete.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from contextvec.errors import OptionError


def plan_windows(n_tokens: int, capacity: int, stride: int) -> list[tuple[int, int]]:
    """[start, end) content-token ranges of the windows covering n_tokens (one window if it fits)."""
    if capacity < 2:
        raise OptionError(f"window capacity {capacity} is too small; max_length must leave room for 2+ tokens.")
    if not 0 <= stride < capacity:
        raise OptionError(f"stride={stride} must be in 0..{capacity - 1} (tokens shared by neighbouring windows).")
    if n_tokens <= capacity:
        return [(0, n_tokens)]
    step = capacity - stride
    starts = [*list(range(0, n_tokens - capacity, step)), n_tokens - capacity]
    return [(s, s + capacity) for s in starts]


def context_scores(start: int, end: int, n_tokens: int, causal: bool) -> npt.NDArray[np.int64]:
    """How much context each token of window [start, end) has in it; higher is better. Shape (end - start,)."""
    pos = np.arange(start, end, dtype=np.int64)
    complete = np.int64(n_tokens + 1)  # a side that reaches the text edge is as good as it gets
    left = pos - start if start > 0 else np.full_like(pos, complete)
    if causal:
        return left
    right = end - 1 - pos if end < n_tokens else np.full_like(pos, complete)
    return np.minimum(left, right)


def window_owner(windows: list[tuple[int, int]], n_tokens: int, causal: bool) -> tuple[npt.NDArray[np.int64], ...]:
    """For each token: the window that owns it and its row in that window. Two arrays of shape (n_tokens,)."""
    best = np.full(n_tokens, -1, dtype=np.int64)
    owner = np.zeros(n_tokens, dtype=np.int64)
    row = np.zeros(n_tokens, dtype=np.int64)
    for w, (s, e) in enumerate(windows):
        score = context_scores(s, e, n_tokens, causal)
        better = score > best[s:e]  # ties keep the earlier window
        idx = np.nonzero(better)[0]
        best[s + idx] = score[idx]
        owner[s + idx] = w
        row[s + idx] = idx
    return owner, row


def merge_windows(
    window_vectors: list[npt.NDArray[np.float32]],
    windows: list[tuple[int, int]],
    n_tokens: int,
    causal: bool,
) -> npt.NDArray[np.float32]:
    """Merge per-window content-token vectors [(e - s, D)] into one (n_tokens, D) array."""
    if len(windows) == 1:
        return window_vectors[0]
    owner, row = window_owner(windows, n_tokens, causal)
    D = window_vectors[0].shape[1]
    out = np.empty((n_tokens, D), dtype=window_vectors[0].dtype)
    for w, vecs in enumerate(window_vectors):
        mine = np.nonzero(owner == w)[0]
        out[mine] = vecs[row[mine]]  # (n_w, D) rows -> their places in the text
    return out
