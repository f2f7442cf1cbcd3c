"""Publishing an output file atomically: write `.NAME.PID.tmp` beside it, fsync, rename; clean what killed runs left.

A temp file's name holds its owner's process id, so a later run can tell a live writer's temp from a dead one's:
`remove_stale_temps` deletes those whose owner is gone. SIGKILL cannot be caught, so that is the only cleanup for
it; SIGTERM is turned into an orderly exit by `sigterm_exits`, which lets every sink delete its temp on the way.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from contextvec.procs import process_alive

logger = logging.getLogger(__name__)


def temp_path(out: Path) -> Path:
    """Where `out` is written before it is published: `.NAME.PID.tmp` in the same folder (same filesystem)."""
    return out.with_name(f".{out.name}.{os.getpid()}.tmp")


def remove_stale_temps(out: Path) -> list[Path]:
    """Delete `out`'s temp files whose owner process is dead (runs killed mid-write); return what was deleted."""
    removed: list[Path] = []
    if not out.parent.is_dir():
        return removed
    prefix, suffix = f".{out.name}.", ".tmp"
    for tmp in out.parent.iterdir():
        name = tmp.name
        if not (name.startswith(prefix) and name.endswith(suffix)):
            continue
        pid_text = name[len(prefix) : -len(suffix)]
        if not pid_text.isdigit() or process_alive(int(pid_text)):
            continue
        try:
            tmp.unlink()
        except FileNotFoundError:
            continue  # another run cleaned it first
        logger.info("removed %s, left by a run that was killed", tmp)
        removed.append(tmp)
    return removed


def publish(tmp: Path, out: Path) -> None:
    """Make `tmp` durable, then rename it to `out` in one step (readers see the old file or the new, never half)."""
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, out)
    try:
        fd = os.open(out.parent, os.O_RDONLY)
    except OSError:
        return  # some platforms cannot open a folder; the rename itself is done
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def sigterm_exits() -> Iterator[None]:
    """Within the block, SIGTERM raises SystemExit(143), so `with` blocks unwind and delete their temp files.

    Wrap a long job in it (the CLI's `embed`); outside the main thread it does nothing (Python allows signal
    handlers only there). The previous handler is restored on exit.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _exit(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _exit)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
