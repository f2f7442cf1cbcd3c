"""Keep a long corpus job's memory flat: hand the heap's free pages back to the OS after each batch.

Why: glibc's malloc raises its mmap threshold to the largest block freed so far, so torch's per-batch activations
(a different size every batch) end up on the heap, and the heap's high-water mark creeps up with the number of
batches. `malloc_trim(0)` returns the free pages; measured in benchmarks/index.py (memory part) it keeps a
16x-longer build within a few percent of a short one's peak, at no measurable cost in speed. Fixing the mmap
threshold instead (MALLOC_MMAP_THRESHOLD_) also flattens memory but cost about 45% of the speed (page faults on
every large tensor), so it is not used. Anything but glibc: a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to do
        return None
    return trim


def release_free_memory() -> bool:
    """Return the heap's free pages to the OS; True where the C library could (glibc)."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
