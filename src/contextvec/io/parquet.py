"""Write embedding results to one Parquet file, appended chunk by chunk, published atomically at the end."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from contextvec.io.atomic import publish, remove_stale_temps, temp_path

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq


class ParquetSink:
    """Context manager: `write(table)` any number of times; the file appears at `path` only if all went well.

    Entering it deletes temp files of earlier runs that were killed; leaving it with an error (or SIGTERM under
    `io.atomic.sigterm_exits`) deletes its own.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tmp = temp_path(path)
        self._writer: pq.ParquetWriter | None = None
        self.rows = 0

    def write(self, table: pa.Table) -> None:
        import pyarrow.parquet as pq

        if self._writer is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(str(self.tmp), table.schema, compression="zstd")
        self._writer.write_table(table)
        self.rows += table.num_rows

    def __enter__(self) -> ParquetSink:
        remove_stale_temps(self.path)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            if self._writer is not None:
                self._writer.close()
            if exc_type is None and self._writer is not None:
                publish(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)  # after publish it is gone already
