"""Parquet files of the taxi data: one schema (from taxi_flows.core.schema), one set of write options,
row groups of a sensible size, and memory bounded whatever the size or order of the input.

Conventions (kept everywhere, BigQuery included):
- timestamps are the TLC's naive New York wall-clock times, written as Parquet
  TIMESTAMP(MICROS, isAdjustedToUTC=false): no time zone is invented. BigQuery reads that logical
  type as DATETIME, which is what the schema's BigQuery mapping declares;
- integers are nullable INT64 (blank VendorID stays NULL, not NaN); ehail_fee is a DOUBLE;
- SNAPPY compression (fast, and every reader, BigQuery included, takes it), Parquet format 2.6,
  row groups of up to ROW_GROUP_ROWS rows, column statistics on.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 64 * 1024  # ~2 MB compressed for a yellow month: small enough to keep memory flat
# The partitioned writer holds at most this many rows across all its partitions before it writes.
MAX_BUFFERED_ROWS = 64 * 1024

WRITE_OPTIONS = {
    "compression": "snappy",
    "version": "2.6",
    "coerce_timestamps": "us",
    "allow_truncated_timestamps": False,
    "write_statistics": True,
}


class RowGroupWriter:
    """A Parquet file written from small batches, in row groups of up to ROW_GROUP_ROWS rows."""

    def __init__(self, path: Path, schema: pa.Schema):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.schema = schema
        self.rows = 0
        self.buffered = 0
        self._buffer: list[pa.RecordBatch] = []
        self._writer = pq.ParquetWriter(path, schema, **WRITE_OPTIONS)

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._buffer.append(batch)
        self.buffered += batch.num_rows
        self.rows += batch.num_rows
        if self.buffered >= ROW_GROUP_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._buffer:
            table = pa.Table.from_batches(self._buffer, schema=self.schema)
            self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
            self._buffer, self.buffered = [], 0

    def close(self) -> Path:
        self.flush()
        self._writer.close()
        return self.path


class PartitionedWriter:
    """Rows split by the value of one date column into one local file per date (Hive layout:
    ``<key>=<YYYY-MM-DD>/<name>``; the key column itself lives in the path, not in the file).

    Memory: at most MAX_BUFFERED_ROWS rows are held across partitions; past that, the largest
    buffers are written out as (smaller) row groups. A month file in pickup order keeps one or two
    partitions busy at a time, and its batches are split by slicing (no copy); a shuffled one is
    sorted first, and still cannot hold more than the budget.
    """

    def __init__(self, root: Path, schema: pa.Schema, key: str, name: str):
        self.root, self.key, self.name = root, key, name
        self.file_schema = schema.remove(schema.get_field_index(key))
        self.parts: dict[str, RowGroupWriter] = {}

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        keys = batch.column(self.key)
        days = keys.cast(pa.int32()).fill_null(-(2**31)).to_numpy(zero_copy_only=False)
        order = None
        if np.any(days[1:] < days[:-1]):  # not in pickup-date order: sorted (a copy of the batch)
            order = pc.sort_indices(keys)
            keys, days = keys.take(order), days[order.to_numpy()]
        starts = np.concatenate([[0], np.flatnonzero(np.diff(days)) + 1])
        ends = np.append(starts[1:], len(days))
        rows = batch.drop_columns([self.key])
        for start, end in zip(starts, ends, strict=True):
            value = keys[int(start)].as_py()
            start, length = int(start), int(end - start)
            if order is not None:
                run = rows.take(order.slice(start, length))
            elif 2 * length >= len(days):  # most of the batch: a slice (it pins at most twice its rows)
                run = rows.slice(start, length)
            else:
                # A few rows (a pickup outside the month, a day's last ones): a copy, so that they do not
                # keep the whole input batch alive while their date waits for its flush.
                run = rows.take(pa.array(np.arange(start, start + length)))
            self._part(value.isoformat() if value else "__HIVE_DEFAULT_PARTITION__").add(run)
        self._enforce_budget()

    def _part(self, value: str) -> RowGroupWriter:
        if value not in self.parts:
            path = self.root / f"{self.key}={value}" / self.name
            self.parts[value] = RowGroupWriter(path, self.file_schema)
        return self.parts[value]

    def _enforce_budget(self) -> None:
        buffered = sum(p.buffered for p in self.parts.values())
        for part in sorted(self.parts.values(), key=lambda p: p.buffered, reverse=True):
            if buffered <= MAX_BUFFERED_ROWS:
                break
            buffered -= part.buffered
            part.flush()

    def close(self) -> dict[str, RowGroupWriter]:
        """Close every file; return the writers by partition value (path and row count on each)."""
        for part in self.parts.values():
            part.close()
        return self.parts
