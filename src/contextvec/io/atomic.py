"""The one way a file is written atomically: write `.NAME.PID.tmp` beside it, fsync, rename, fsync the folder;
clean what killed runs left. `write_atomic` does it for bytes in memory (manifests, checkpoints); `publish` is the
last step for a temp file written piece by piece (io.sink's outputs, index shards); `write_checked` adds a SHA-256
header that `read_checked` verifies before anything in the file is used (checkpoints: a damaged file is refused).

A temp file's name holds its owner's process id, so a later run can tell a live writer's temp from a dead one's:
`remove_stale_temps` deletes those whose owner is gone. SIGKILL cannot be caught, so that is the only cleanup for
it; SIGTERM is turned into an orderly exit by `sigterm_exits`, which lets every sink delete its temp on the way.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from contextvec.errors import CheckpointError, OutputWriteError
from contextvec.procs import process_alive

logger = logging.getLogger(__name__)

MAGIC = b"CVCKPT1\n"  # checked files: MAGIC + 64 hex digits (SHA-256 of the payload) + b"\n" + payload
HEADER = len(MAGIC) + 64 + 1


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


def write_atomic(path: Path, data: bytes, *, then: str = "") -> None:
    """Write `data` as `path` in one step (temp file, fsync, rename, fsync the folder); readers see the old file
    or the new one, never half. A failure is an OutputWriteError (`then`: what to do after fixing it)."""
    tmp = temp_path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temps(path)
        tmp.write_bytes(data)
        publish(tmp, path)
    except OSError as exc:
        raise OutputWriteError(
            f"cannot write {path}: {exc.strerror or exc}. Free space or fix permissions{then}."
        ) from None
    finally:
        with contextlib.suppress(OSError):  # after publish it is gone already; a folder that is a file has none
            tmp.unlink(missing_ok=True)


def write_checked(path: Path, payload: bytes) -> None:
    """`write_atomic` with a SHA-256 header, so `read_checked` can refuse a damaged or cut-short file."""
    write_atomic(path, MAGIC + hashlib.sha256(payload).hexdigest().encode("ascii") + b"\n" + payload)


def read_checked(path: Path, fix: str) -> bytes:
    """The payload of a file written by `write_checked`, verified; CheckpointError says what is wrong, then `fix`."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read ({exc.strerror}); {fix}.") from None
    if len(data) < HEADER or not data.startswith(MAGIC):
        raise CheckpointError(
            f"checkpoint {path} is not a contextvec checkpoint or was cut short ({len(data)} bytes); {fix}."
        )
    expected = data[len(MAGIC) : HEADER - 1].decode("ascii", "replace")
    payload = data[HEADER:]
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or half-written: its SHA-256 is {actual[:12]}…, the file says "
            f"{expected[:12]}… ({len(payload)} payload bytes); {fix}."
        )
    return payload


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
