"""Write embedding results as JSON Lines (one object per row, the vector as a list of numbers), atomically."""

from __future__ import annotations

import json
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING

from contextvec.io.atomic import publish, remove_stale_temps, temp_path

if TYPE_CHECKING:
    import pyarrow as pa


class JsonlSink:
    """The same contract as ParquetSink: `write(table)` repeatedly; `path` appears only if all went well.

    Each row becomes `{"line": ..., "id": ..., ..., "vector": [...]}` with the table's columns in order; the schema
    metadata (model, layers, pooling, level) is not repeated per row.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = temp_path(path)
        self._fh: IO[str] | None = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.tmp.open("w", encoding="utf-8")
        for row in table.to_pylist():
            self._fh.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")
        self.rows += table.num_rows

    def __enter__(self) -> JsonlSink:
        remove_stale_temps(self.path)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._fh is not None:
                self._fh.close()
            if exc_type is None and self._fh is not None:
                publish(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)
