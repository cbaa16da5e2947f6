"""Parse a month file as a stream of Arrow batches and apply the course's transformations.

The file is parsed by taxi_flows.core.csv_reader, a block at a time: memory does not grow with
the file.

The course's transformations, per batch:
- CamelCase source names to snake_case (VendorID -> vendor_id, PULocationID -> pu_location_id);
- keep rows with passenger_count > 0, then rows with trip_distance > 0 (a blank value is not > 0,
  so the blank tail of dispatch rows goes with the first rule); each rule's removals are counted;
- add the pickup date column (date part of the naive pickup time) and source_month.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from taxi_flows.core.csv_reader import typed_batches
from taxi_flows.core.months import next_month
from taxi_flows.core.schema import TripSchema

log = logging.getLogger(__name__)

KNOWN_VENDORS = (1, 2)


@dataclass
class TripStats:
    """What a load saw, for the task log, the quality checks and the task's return value."""

    color: str
    month: str
    rows_read: int = 0
    removed_passenger_count: int = 0  # passenger_count blank or not > 0
    removed_trip_distance: int = 0  # (of the rest) trip_distance blank or not > 0
    rows_kept: int = 0
    unknown_vendor: int = 0  # kept rows whose vendor_id is not 1 or 2 (or blank)
    out_of_month_pickups: int = 0  # kept rows whose pickup date is outside the file's month
    pickup_dates: set[dt.date] = field(default_factory=set, repr=False)

    def summary(self) -> dict:
        out = asdict(self)
        dates = out.pop("pickup_dates")
        out["pickup_date_min"] = min(dates).isoformat() if dates else None
        out["pickup_date_max"] = max(dates).isoformat() if dates else None
        return out


def _count_true(mask: pa.Array) -> int:
    return pc.sum(mask).as_py() or 0  # the sum of an empty array is null


def transform(batch: pa.RecordBatch, sch: TripSchema, month: dt.date, stats: TripStats) -> pa.RecordBatch:
    """One parsed batch (source names) to the rows we write (target names, filtered, derived columns)."""
    n = batch.num_rows
    stats.rows_read += n
    by_name = dict(zip(sch.source_names, batch.columns, strict=True))
    passengers = pc.fill_null(pc.greater(by_name["passenger_count"], 0), False)
    distance = pc.fill_null(pc.greater(by_name["trip_distance"], 0), False)
    keep = pc.and_(passengers, distance)
    stats.removed_passenger_count += len(passengers) - _count_true(passengers)
    stats.removed_trip_distance += _count_true(passengers) - _count_true(keep)

    columns = [pc.filter(by_name[c.source], keep) for c in sch.source_columns]
    pickup = columns[sch.source_names.index(sch.pickup_datetime)]
    pickup_date = pc.cast(pickup, pa.date32())
    kept = len(pickup_date)
    stats.rows_kept += kept
    source_month = pa.array(np.full(kept, np.datetime64(month, "D")))

    vendor = columns[sch.source_names.index("VendorID")]
    stats.unknown_vendor += kept - _count_true(pc.is_in(vendor, pa.array(KNOWN_VENDORS)))
    in_month = pc.and_(
        pc.greater_equal(pickup_date, pa.scalar(month, pa.date32())),
        pc.less(pickup_date, pa.scalar(next_month(month), pa.date32())),
    )
    stats.out_of_month_pickups += kept - _count_true(in_month)
    stats.pickup_dates.update(pc.unique(pickup_date).drop_null().to_pylist())

    return pa.RecordBatch.from_arrays([*columns, pickup_date, source_month], schema=sch.arrow_schema)


def trip_batches(stream: BinaryIO, sch: TripSchema, month: dt.date, stats: TripStats, what: str):
    """The transformed batches of a month file, logging progress as rows go by."""
    next_log = 250_000
    for batch in typed_batches(stream, sch.source_names, sch.source_arrow_types(), what, sch.color):
        yield transform(batch, sch, month, stats)
        if stats.rows_read >= next_log:
            log.info("%s: %s rows read, %s kept", what, f"{stats.rows_read:,}", f"{stats.rows_kept:,}")
            next_log += 250_000
