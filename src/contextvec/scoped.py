"""Process-wide state that library code may change only inside a block, restored when the block ends.

Library calls leave the process as they found it (no writes to os.environ, the root logger, torch's global RNG or
thread count, or the allocator). Randomness goes through a local `torch.Generator` wherever an API takes one
(shuffles, masks, sampling). What cannot take one — a module's weight initialisation and dropout draw from torch's
global RNG — runs inside `seeded`, which forks the global RNG (CPU and CUDA), seeds it, and puts the caller's
state back afterwards, however the block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


@contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """Within the block torch's global RNG starts at `seed` (for init and dropout); yields a local generator with
    the same seed for everything that accepts one. The caller's global RNG state is restored on exit."""
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        yield torch.Generator().manual_seed(seed)
