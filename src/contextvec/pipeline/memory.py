"""Keep a long corpus job's memory flat: hand the heap's free pages back to the OS, and keep native threads from
spreading their allocations over many heaps.

Why: glibc's malloc raises its mmap threshold to the largest block freed so far, so torch's per-batch activations
(a different size every batch) end up on the heap, and the heap's high-water mark creeps up with the number of
batches (without a trim, a 16x-longer build's embedding peaked 1.25x higher). `malloc_trim(0)` returns the free
pages, but the next batch then faults its activations in again: trimming after every batch cost about 5% of a
build's speed on 2 cores. `HeapAllowance` trims only once the process has grown `HEAP_ALLOWANCE_MIB` past its
size after the first batch: the same flat peak as trimming every batch, at the speed of not trimming
(benchmarks/index.py; docs/index.md, "Peak memory"). Fixing the mmap threshold instead (MALLOC_MMAP_THRESHOLD_)
also flattens memory but cost about 45% of the speed (page faults on every large tensor), so it is not used.

LanceDB's index build is Rust on glibc's malloc from a dozen threads; each thread gets its own heap ("arena"),
buffers allocated on one thread are freed on another, and the free space scattered over the arenas grew with the
rows indexed (benchmarks/index_table_memory.py); torch's and the shard writer's threads do the same on a smaller
scale while a corpus is embedded. `trimmed_heaps` hands every arena's free pages back from a thread while its
block runs (the index's LanceDB step); the thread is joined before the block ends and changes no setting.
`capped_arenas` caps the arenas that threads started inside it can create. That is a process-wide allocator
setting glibc may keep for good, so no library function uses it: only the CLI's `contextvec index build` runs
inside it (a program of your own can do the same). Anything but glibc: a no-op.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import functools
import os
import threading
from collections.abc import Iterator
from typing import Any

M_ARENA_MAX = -8  # mallopt parameter (malloc.h)
HEAP_ARENAS = 2  # arenas for threads first allocating inside `capped_arenas` (memory measured: docs/index.md)
TRIM_EVERY_S = 0.2  # how often `trimmed_heaps` hands free pages back while its block runs
HEAP_ALLOWANCE_MIB = 64  # growth past the first batch's size that `HeapAllowance` lets the heap keep
_lock = threading.Lock()
_capping = 0  # `capped_arenas` blocks running: the first one caps, the last one out restores


@functools.cache
def _libc() -> Any | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        lib = ctypes.CDLL(name)
        lib.malloc_trim, lib.mallopt  # noqa: B018 -- both exist on glibc only (not musl, macOS)
    except (OSError, AttributeError):
        return None
    return lib


def release_free_memory() -> bool:
    """Return the heap's free pages to the OS; True where the C library could (glibc)."""
    lib = _libc()
    if lib is None:
        return False
    lib.malloc_trim(0)
    return True


def resident_bytes() -> int | None:
    """This process's resident memory (Linux /proc), or None where it cannot be read cheaply."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


class HeapAllowance:
    """Call `after_batch()` when a batch's memory is freed: hands free pages back once the process has grown more
    than `allowance_mib` past its size after the first batch (every time where its size cannot be read)."""

    def __init__(self, allowance_mib: int = HEAP_ALLOWANCE_MIB) -> None:
        self.allowance = allowance_mib * 2**20
        self.base: int | None = None  # resident bytes after the first batch
        self.trims = 0

    def after_batch(self) -> bool:
        """True where free pages were handed back."""
        now = resident_bytes()
        if now is not None:
            if self.base is None:
                self.base = now
            if now <= self.base + self.allowance:
                return False
        self.trims += 1
        return release_free_memory()


def _glibc_default_arenas() -> int:
    """glibc's arena limit when none is set: 8 per CPU this process may run on (64-bit)."""
    return 8 * len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 8 * (os.cpu_count() or 1)


@contextlib.contextmanager
def capped_arenas(arenas: int = HEAP_ARENAS) -> Iterator[None]:
    """Threads that first allocate inside the block share at most `arenas` malloc arenas.

    glibc reads its arena limit once: the first time a thread needs a new arena while a limit is set (or once a
    process has more than 8 arenas). So the cap holds only if nothing before fixed the limit, and once fixed
    inside the block it stays for the process. A user's own MALLOC_ARENA_MAX wins. A block entered while one
    runs (nested, or on another thread) adds nothing; the last one out restores glibc's default.
    """
    global _capping
    lib = _libc()
    with _lock:
        first, _capping = _capping == 0, _capping + 1
    if lib is not None and first and "MALLOC_ARENA_MAX" not in os.environ:
        lib.mallopt(M_ARENA_MAX, arenas)
    try:
        yield
    finally:
        with _lock:
            _capping -= 1
            last = _capping == 0
        if lib is not None and last and "MALLOC_ARENA_MAX" not in os.environ:
            lib.mallopt(M_ARENA_MAX, _glibc_default_arenas())  # glibc's own limit (mallopt ignores 0)


@contextlib.contextmanager
def trimmed_heaps(every_s: float = TRIM_EVERY_S) -> Iterator[None]:
    """Run a block of multi-threaded native work (LanceDB) while a thread hands every arena's free pages back to
    the OS every `every_s` seconds; the thread stops (joined) when the block ends, whatever way it ends.

    The periodic trim costs about 7% of the speed of a corpus embedding on 2 cores, so the index build runs only
    its LanceDB step in this block (the embedding trims after each batch instead, `HeapAllowance`).
    """
    lib = _libc()
    if lib is None:
        yield
        return
    done = threading.Event()

    def trim() -> None:
        while not done.wait(every_s):
            lib.malloc_trim(0)

    trimmer = threading.Thread(target=trim, name="contextvec-trim", daemon=True)
    trimmer.start()
    try:
        yield
    finally:
        done.set()
        trimmer.join()
        release_free_memory()
