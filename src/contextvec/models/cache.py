"""contextvec's on-disk cache, and the one way anything is written into it: build aside, then rename.

A crash mid-build leaves only a `.tmp-*` folder, which the next build ignores and clears; a finished entry
appears all at once or not at all.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

logger = logging.getLogger(__name__)


def cache_root() -> Path:
    """$CONTEXTVEC_CACHE, else $XDG_CACHE_HOME/contextvec, else ~/.cache/contextvec."""
    env = os.environ.get("CONTEXTVEC_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "contextvec"


def build_once(final: Path, build: Callable[[Path], None], check: Callable[[Path], bool]) -> Path:
    """Return `final`, building it first with `build(tmp_dir)` if it is missing; atomic against crashes and races.

    `check(path)` says whether a folder holds a complete entry; a stale or incomplete `final` is rebuilt.
    """
    if final.is_dir() and check(final):
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".tmp-{final.name}-*"):
        if _is_abandoned(stale):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-{os.getpid()}-", dir=final.parent))
    try:
        build(tmp)
        if not check(tmp):
            raise RuntimeError(f"building {final.name} did not produce a complete entry in {tmp}")
        if final.exists():  # an incomplete entry from an older version: move it out of the way first
            if check(final):
                return final  # another process finished first
            shutil.rmtree(final)
        try:
            os.rename(tmp, final)
        except OSError:
            if final.is_dir() and check(final):
                return final  # lost a race with another process: theirs is as good
            raise
        logger.info("cached %s", final)
        return final
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _is_abandoned(tmp: Path) -> bool:
    """A temp folder whose owner process is gone (its pid is in the name)."""
    try:
        pid = int(tmp.name.split("-")[-2])
    except (ValueError, IndexError):
        return True
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
