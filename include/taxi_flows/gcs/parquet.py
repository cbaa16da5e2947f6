"""Parquet files of the taxi data: one schema (from taxi_flows.core.schema), one set of write options,
row groups of a sensible size, and memory bounded whatever the size or order of the input.

Conventions (kept everywhere, BigQuery included):
- timestamps are the TLC's naive New York wall-clock times, written as Parquet
  TIMESTAMP(MICROS, isAdjustedToUTC=false): no time zone is invented. BigQuery reads that logical
  type as DATETIME, which is what the schema's BigQuery mapping declares;
- integers are nullable INT64 (blank VendorID stays NULL, not NaN); ehail_fee is a DOUBLE;
- SNAPPY compression (fast, and every reader, BigQuery included, takes it), Parquet format 2.6,
  row groups of up to ROW_GROUP_ROWS rows, column statistics on;
- dictionary encoding for every column but the timestamps: a row group's pickup and dropoff times
  are nearly all distinct, so a dictionary of them is larger than the values and its hashing a
  quarter of the encoder's time (a full yellow month: 0.30 s and 28.2 MB without, 0.40 s and
  32.4 MB with).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from taxi_flows.gcs.layout import later_file_name

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
        dictionary = [f.name for f in schema if not pa.types.is_timestamp(f.type)]
        self._writer = pq.ParquetWriter(path, schema, use_dictionary=dictionary, **WRITE_OPTIONS)

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


# A date's file is done once this many batches went by without a row of it, if it holds at least
# SEAL_MIN_ROWS rows (a month file in pickup order: the day is over): the writer closes it and hands
# it to on_sealed (web_to_gcs uploads it while the rest of the month is encoded).
SEAL_AFTER_BATCHES = 2
SEAL_MIN_ROWS = 1_000


class PartitionedWriter:
    """Rows split by the value of one date column into local files by date (Hive layout:
    ``<key>=<YYYY-MM-DD>/<name>``; the key column itself lives in the path, not in the file).

    Memory: at most MAX_BUFFERED_ROWS rows are held across partitions; past that, the largest
    buffers are written out as (smaller) row groups. A month file in pickup order keeps one or two
    partitions busy at a time, and its batches are split by slicing (no copy); a shuffled one is
    sorted first, and still cannot hold more than the budget.

    Sealing (with on_sealed): a date's file that is done (SEAL_AFTER_BATCHES, SEAL_MIN_ROWS) is closed
    and handed to on_sealed(value, writer) at once; only dates within seal_dates (first, last: the
    month: pickups outside it come a few at a time, all month long, and stay open to the end). Rows of
    a sealed date that come later go to a second file, ``layout.later_file_name(name, 1)``, which
    stays open to the end: at most two files a date, however shuffled the input.
    """

    def __init__(
        self,
        root: Path,
        schema: pa.Schema,
        key: str,
        name: str,
        on_sealed=None,
        seal_dates: tuple[dt.date, dt.date] | None = None,
    ):
        self.root, self.key, self.name = root, key, name
        self.file_schema = schema.remove(schema.get_field_index(key))
        self.parts: dict[str, RowGroupWriter] = {}  # the open file of each date
        self.files: dict[str, list[RowGroupWriter]] = {}  # every file of each date, sealed or open, in order
        self.on_sealed = on_sealed
        first, last = seal_dates or (dt.date.min, dt.date.max)
        self._sealable = (first.isoformat(), last.isoformat())
        self._batches = 0
        self._last_batch: dict[str, int] = {}  # the last batch that had rows of each open file's date

    def add(self, batch: pa.RecordBatch) -> None:
        if batch.num_rows == 0:
            return
        self._batches += 1
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
            value = value.isoformat() if value else "__HIVE_DEFAULT_PARTITION__"
            self._part(value).add(run)
            self._last_batch[value] = self._batches
        self._enforce_budget()
        if self.on_sealed is not None:
            self._seal_done()

    def _part(self, value: str) -> RowGroupWriter:
        if value not in self.parts:
            files = self.files.setdefault(value, [])
            name = later_file_name(self.name, len(files)) if files else self.name
            self.parts[value] = RowGroupWriter(self.root / f"{self.key}={value}" / name, self.file_schema)
            files.append(self.parts[value])
        return self.parts[value]

    def _seal_done(self) -> None:
        for value, part in list(self.parts.items()):
            idle = self._batches - self._last_batch[value] >= SEAL_AFTER_BATCHES
            within = self._sealable[0] <= value <= self._sealable[1]  # ISO dates sort as dates
            if idle and within and part.rows >= SEAL_MIN_ROWS and len(self.files[value]) == 1:
                del self.parts[value]
                part.close()
                self.on_sealed(value, part)

    def _enforce_budget(self) -> None:
        buffered = sum(p.buffered for p in self.parts.values())
        for part in sorted(self.parts.values(), key=lambda p: p.buffered, reverse=True):
            if buffered <= MAX_BUFFERED_ROWS:
                break
            buffered -= part.buffered
            part.flush()

    def close(self) -> dict[str, list[RowGroupWriter]]:
        """Close every open file; return every file's writer by partition value (path and row count on
        each), those handed to on_sealed included."""
        for part in self.parts.values():
            part.close()
        self.parts = {}
        return self.files

    @property
    def rows(self) -> int:
        return sum(part.rows for files in self.files.values() for part in files)
