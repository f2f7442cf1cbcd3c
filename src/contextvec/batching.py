"""Length-sorted batching under a token budget; callers restore their own order from the returned indices."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from contextvec.errors import OptionError


def plan_batches(lengths: Sequence[int], token_budget: int, max_batch_size: int) -> list[list[int]]:
    """Group item indices into batches, longest first, so that B * max(T in batch) <= token_budget.

    Items are sorted by length (descending, stable) so a batch holds similar lengths and little padding; an item
    longer than the budget gets a batch of its own. Returns lists of indices into `lengths`.
    """
    if token_budget < 1 or max_batch_size < 1:
        raise OptionError(f"token_budget={token_budget} and max_batch_size={max_batch_size} must be >= 1.")
    order = np.argsort(-np.asarray(lengths, dtype=np.int64), kind="stable")
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order.tolist():
        n = int(lengths[i])
        if current and (len(current) + 1 > max_batch_size or (len(current) + 1) * max(longest, n) > token_budget):
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, n)
    if current:
        batches.append(current)
    return batches
