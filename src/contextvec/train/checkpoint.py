"""Checkpoints: written atomically (temp file, fsync, rename) with a SHA-256 of their contents, and verified
before anything in them is used, so a half-written or damaged file is refused with an error instead of loaded.

File layout: io.atomic's checked file (a SHA-256 header) around a payload, torch.save of a dict.
Names are step-00000200.ckpt in OUT/checkpoints/; the newest complete one is what --resume continues from.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import torch

from contextvec.errors import CheckpointError
from contextvec.io.atomic import read_checked, write_checked

logger = logging.getLogger(__name__)


def checkpoint_dir(out: Path) -> Path:
    return out / "checkpoints"


def checkpoint_path(out: Path, step: int) -> Path:
    return checkpoint_dir(out) / f"step-{step:08d}.ckpt"


def list_checkpoints(out: Path) -> list[Path]:
    """Checkpoint files, oldest first (temp files of unfinished writes are not checkpoints)."""
    folder = checkpoint_dir(out)
    return sorted(folder.glob("step-*.ckpt")) if folder.is_dir() else []


def save_checkpoint(out: Path, step: int, state: dict[str, Any], keep: int) -> Path:
    """Write `state` as OUT/checkpoints/step-N.ckpt atomically, then delete all but the `keep` newest."""
    path = checkpoint_path(out, step)
    write_state(path, state)
    for old in list_checkpoints(out)[:-keep]:
        old.unlink(missing_ok=True)
    return path


def write_state(path: Path, state: dict[str, Any]) -> None:
    """Write `state` (tensors, numbers, strings, lists, dicts) to `path`: checksummed, atomically (io.atomic)."""
    buf = io.BytesIO()
    torch.save(state, buf)
    write_checked(path, buf.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read and verify one checkpoint; CheckpointError says what is wrong with it and what to do."""
    others = [p.name for p in list_checkpoints(path.parent.parent) if p != path]
    fix = (
        f"delete it to resume from the previous one ({others[-1]})"
        if others
        else "start the run again without --resume"
    )
    return read_state(path, fix)


def read_state(path: Path, fix: str) -> dict[str, Any]:
    """Read a file `write_state` wrote: its checksum verified before anything is unpickled, and then only
    tensors and plain values (torch's weights_only loader: no code runs). `fix` ends every error message."""
    payload = read_checked(path, fix)
    try:
        state = torch.load(io.BytesIO(payload), map_location="cpu", weights_only=True)
    except Exception as exc:  # a matching checksum over a payload that is not plain data (e.g. pickled code)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise CheckpointError(
            f"checkpoint {path} holds more than tensors and plain values, refused unread ({first}); {fix}."
        ) from None
    if not isinstance(state, dict):
        raise CheckpointError(f"checkpoint {path} holds a {type(state).__name__}, not a training state; {fix}.")
    return state


def latest_checkpoint(out: Path) -> dict[str, Any]:
    """The newest checkpoint in OUT, verified; an error when there is none or it is damaged."""
    found = list_checkpoints(out)
    if not found:
        raise CheckpointError(
            f"--resume: {checkpoint_dir(out)} holds no checkpoint (step-*.ckpt); run without --resume to start."
        )
    logger.info("resuming from %s", found[-1])
    return load_checkpoint(found[-1])
