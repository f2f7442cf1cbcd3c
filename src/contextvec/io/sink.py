"""The one way an output file is written: into a temp file beside it, published by rename only if all went well.

Entering a sink deletes temp files of earlier runs that were killed; leaving it with an error (or SIGTERM under
`io.atomic.sigterm_exits`) deletes its own. Subclasses say how a table is appended in their format.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Self

from contextvec.io.atomic import publish, remove_stale_temps, temp_path

if TYPE_CHECKING:
    import pyarrow as pa


class AtomicSink:
    """Context manager: `write(table)` any number of times; the file appears at `path` only if all went well."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = temp_path(path)
        self.rows = 0
        self._opened = False

    def _open(self, first: pa.Table) -> None:
        raise NotImplementedError

    def _append(self, table: pa.Table) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError

    def write(self, table: pa.Table) -> None:
        if not self._opened:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._open(table)
            self._opened = True
        self._append(table)
        self.rows += table.num_rows

    def __enter__(self) -> Self:
        remove_stale_temps(self.path)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._opened:
                self._close()
                if exc_type is None:
                    publish(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)  # after publish it is gone already
