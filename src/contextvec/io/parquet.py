"""Write embedding results to one Parquet file (zstd), appended chunk by chunk, published atomically at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from contextvec.io.sink import AtomicSink

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq


class ParquetSink(AtomicSink):
    """`write(table)` any number of times; the file appears at `path` only if all went well (see io.sink)."""

    _writer: pq.ParquetWriter

    def _open(self, first: pa.Table) -> None:
        import pyarrow.parquet as pq

        self._writer = pq.ParquetWriter(str(self.tmp), first.schema, compression="zstd")

    def _append(self, table: pa.Table) -> None:
        self._writer.write_table(table)

    def _close(self) -> None:
        self._writer.close()
