"""contextvec's on-disk cache, and the one way anything is written into it: build aside, then rename.

A crash mid-build leaves only a `.tmp-*` folder, which the next build ignores and clears; a finished entry
appears all at once or not at all. Every entry carries a manifest of its files (sizes and hashes, see
`models/manifest.py`), verified each time the entry is used; a damaged entry, or one built before manifests
existed, is rebuilt aside and swapped in.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from contextvec.errors import ModelLoadError
from contextvec.models.manifest import entry_problem, has_manifest, write_manifest
from contextvec.procs import process_alive

logger = logging.getLogger(__name__)


def cache_root() -> Path:
    """$CONTEXTVEC_CACHE, else $XDG_CACHE_HOME/contextvec, else ~/.cache/contextvec."""
    env = os.environ.get("CONTEXTVEC_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "contextvec"


def _sound(entry: Path, check: Callable[[Path], bool]) -> bool:
    return entry.is_dir() and check(entry) and has_manifest(entry) and entry_problem(entry) is None


def build_once(final: Path, build: Callable[[Path], None], check: Callable[[Path], bool]) -> Path:
    """Return `final`, building it first with `build(tmp_dir)` if it is missing or damaged; atomic against crashes
    and races.

    `check(path)` says whether a folder holds a complete entry; an incomplete entry, one that no longer matches its
    manifest (truncated or overwritten files), or one without a manifest is rebuilt and replaced.
    """
    if _sound(final, check):
        return final
    if final.exists():
        problem = entry_problem(final) if has_manifest(final) else "it has no manifest (an older contextvec built it)"
        logger.warning("cache entry %s is damaged or unverifiable (%s); rebuilding it", final, problem)
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(f".tmp-{final.name}-*"):
        if _is_abandoned(stale):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{final.name}-{os.getpid()}-", dir=final.parent))
    try:
        build(tmp)
        if not check(tmp):
            raise ModelLoadError(f"building cache entry {final.name} did not produce a complete entry in {tmp}")
        write_manifest(tmp)
        if _sound(final, check):
            return final  # another process finished first
        _swap_in(tmp, final)
        if not _sound(final, check):
            raise ModelLoadError(
                f"cache entry {final} does not verify right after it was built; check the disk, or delete the "
                "folder and run again"
            )
        logger.info("cached %s", final)
        return final
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _swap_in(tmp: Path, final: Path) -> None:
    """Publish `tmp` as `final`, moving a damaged `final` aside first (each step one rename)."""
    if final.exists():
        old = final.with_name(f".tmp-{final.name}-{os.getpid()}-old")
        shutil.rmtree(old, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):  # another process may have moved it first
            os.rename(final, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(tmp, final)
    except OSError:
        if not final.is_dir():
            raise  # otherwise: lost a race with another process; the caller verifies theirs


def _is_abandoned(tmp: Path) -> bool:
    """A temp folder whose owner process is gone (its pid is in the name)."""
    try:
        pid = int(tmp.name.split("-")[-2])
    except (ValueError, IndexError):
        return True
    return not process_alive(pid)
