"""Write embedding results as JSON Lines (one object per row, the vector as a list of numbers), atomically."""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING

from contextvec.io.sink import AtomicSink

if TYPE_CHECKING:
    import pyarrow as pa


class JsonlSink(AtomicSink):
    """The same contract as ParquetSink (see io.sink).

    Each row becomes `{"line": ..., "id": ..., ..., "vector": [...]}` with the table's columns in order; the schema
    metadata (model, layers, pooling, level) is not repeated per row.
    """

    _fh: IO[str]

    def _open(self, first: pa.Table) -> None:
        self._fh = self.tmp.open("w", encoding="utf-8")

    def _append(self, table: pa.Table) -> None:
        for row in table.to_pylist():
            self._fh.write(json.dumps(row, ensure_ascii=False, allow_nan=False) + "\n")

    def _close(self) -> None:
        self._fh.close()
