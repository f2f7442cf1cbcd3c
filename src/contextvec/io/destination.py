"""Checks on an output path, run before any model is loaded or any text embedded: fail in one line, not after 30 s.

Output formats are chosen by suffix: `.parquet` (Parquet, zstd) and `.jsonl` (one JSON object per row).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from contextvec.errors import OutputPathError

OutputFormat = Literal["parquet", "jsonl"]
OUTPUT_SUFFIXES: dict[str, OutputFormat] = {".parquet": "parquet", ".jsonl": "jsonl"}
_VIRTUAL_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))  # kernel filesystems: nothing can be stored there


def output_format(out: Path) -> OutputFormat:
    """The format that `out`'s suffix selects; any other suffix is refused, naming the valid ones."""
    fmt = OUTPUT_SUFFIXES.get(out.suffix.lower())
    if fmt is None:
        raise OutputPathError(
            f"output {str(out)!r}: suffix {out.suffix or '(none)'!r} is not an output format; end the name with "
            f"{' or '.join(OUTPUT_SUFFIXES)} (e.g. {out.with_suffix('.parquet').name!r})."
        )
    return fmt


def check_destination(out: Path, inputs: Sequence[Path] = ()) -> OutputFormat:
    """Raise OutputPathError unless `out` can be written as a new file; return its format. Writes nothing.

    Refused: an unsupported suffix, a path under /proc, /sys or /dev, an existing folder, a path whose parent is a
    file, a folder that cannot be written, and `out` being one of `inputs` (same file, however named).
    Missing parent folders are fine: they are created when the output is written.
    """
    where = f"output {str(out)!r}"
    target = Path(os.path.abspath(out))
    resolved = out.resolve()
    for inp in inputs:
        if resolved == inp.resolve() or (out.exists() and inp.exists() and os.path.samefile(out, inp)):
            raise OutputPathError(f"{where} is the input file {str(inp)!r}; writing it would destroy the input.")
    fmt = output_format(out)
    for root in _VIRTUAL_ROOTS:
        if resolved == root or root in resolved.parents:
            raise OutputPathError(f"{where} is under {root}, a kernel filesystem; write to a normal folder.")
    if target.is_dir():
        raise OutputPathError(f"{where} is an existing folder; give a file name in it, e.g. '{out / out.name}'.")
    folder = target.parent
    while not folder.exists():  # the nearest existing ancestor must be a writable folder
        folder = folder.parent
    if not folder.is_dir():
        raise OutputPathError(f"{where}: {str(folder)!r} is a file, not a folder; choose another output path.")
    _probe_writable(folder, where)
    return fmt


def _probe_writable(folder: Path, where: str) -> None:
    """Create and remove an empty file in `folder` (os.access is wrong for root and read-only mounts)."""
    try:
        fd, name = tempfile.mkstemp(prefix=".contextvec-probe-", dir=folder)
    except OSError as exc:
        raise OutputPathError(
            f"{where}: cannot write in folder {str(folder)!r} ({exc.strerror or exc}); choose a folder you can write, "
            "or fix its permissions."
        ) from None
    os.close(fd)
    os.unlink(name)
