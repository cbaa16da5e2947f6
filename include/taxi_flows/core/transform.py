"""Parse a month file as a stream of Arrow batches and apply the course's transformations.

The file is parsed by taxi_flows.core.csv_reader, a block at a time: memory does not grow with
the file.

The course's transformations, per batch:
- CamelCase source names to snake_case (VendorID -> vendor_id, PULocationID -> pu_location_id);
- keep rows with passenger_count > 0, then rows with trip_distance > 0 (a blank value is not > 0,
  so the blank tail of dispatch rows goes with the first rule); each rule's removals are counted;
- add the pickup date column (date part of the naive pickup time) and source_month.

Besides, the kept rows are counted against the plausibility checks of taxi_flows.core.quality
(times without a time of day, dropoff before pickup, trips longer than a day, passenger counts and
distances beyond sane bounds, location ids not in the zone lookup, store_and_fwd_flag not Y/N).
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
MAX_PASSENGERS = 9  # the most a real row has (2019-2021); more is a broken file
MAX_TRIP_MILES = 1_000.0  # farther than any taxi trip from NYC goes
STORE_AND_FWD_FLAGS = ("Y", "N")


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
    # Plausibility, on the kept rows (taxi_flows.core.quality holds the thresholds):
    times_at_midnight: int = 0  # pickup and dropoff both at 00:00:00 (a file of dates without times)
    dropoff_before_pickup: int = 0
    longer_than_a_day: int = 0  # dropoff more than 24 h after pickup
    too_many_passengers: int = 0  # passenger_count > MAX_PASSENGERS
    too_long_distance: int = 0  # trip_distance > MAX_TRIP_MILES
    unknown_zones: int = 0  # pu_location_id or do_location_id not in the zone lookup
    unknown_store_and_fwd_flag: int = 0  # store_and_fwd_flag neither Y nor N (blank is fine)
    pickup_dates: set[dt.date] = field(default_factory=set, repr=False)

    def summary(self) -> dict:
        out = asdict(self)
        dates = out.pop("pickup_dates")
        out["pickup_date_min"] = min(dates).isoformat() if dates else None
        out["pickup_date_max"] = max(dates).isoformat() if dates else None
        return out


def _count_true(mask: pa.Array) -> int:
    return pc.sum(mask).as_py() or 0  # the sum of an empty array is null


def _count_plausibility(kept: dict[str, pa.Array], sch: TripSchema, stats: TripStats, zone_ids: pa.Array | None):
    """Count the kept rows of a batch that real months (almost) never have."""
    pickup, dropoff = kept[sch.pickup_datetime], kept[sch.dropoff_datetime]
    at_midnight = [pc.equal(pc.floor_temporal(t, unit="day"), t) for t in (pickup, dropoff)]
    stats.times_at_midnight += _count_true(pc.and_(*at_midnight))
    stats.dropoff_before_pickup += _count_true(pc.less(dropoff, pickup))
    day = pa.scalar(dt.timedelta(days=1), pa.duration(pickup.type.unit))
    stats.longer_than_a_day += _count_true(pc.greater(pc.subtract(dropoff, pickup), day))
    stats.too_many_passengers += _count_true(pc.greater(kept["passenger_count"], MAX_PASSENGERS))
    stats.too_long_distance += _count_true(pc.greater(kept["trip_distance"], MAX_TRIP_MILES))
    if zone_ids is not None:
        unknown = [
            pc.and_(pc.is_valid(ids), pc.invert(pc.is_in(ids, zone_ids)))
            for ids in (kept["PULocationID"], kept["DOLocationID"])
        ]
        stats.unknown_zones += _count_true(pc.or_(*unknown))
    flag = kept["store_and_fwd_flag"]
    known = pc.is_in(flag, pa.array(STORE_AND_FWD_FLAGS))
    stats.unknown_store_and_fwd_flag += _count_true(pc.and_(pc.is_valid(flag), pc.invert(known)))


def transform(
    batch: pa.RecordBatch, sch: TripSchema, month: dt.date, stats: TripStats, zone_ids: pa.Array | None = None
) -> pa.RecordBatch:
    """One parsed batch (source names) to the rows we write (target names, filtered, derived columns).
    zone_ids: the location ids of the zone lookup (None: not checked)."""
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
    _count_plausibility(dict(zip(sch.source_names, columns, strict=True)), sch, stats, zone_ids)

    return pa.RecordBatch.from_arrays([*columns, pickup_date, source_month], schema=sch.arrow_schema)


def trip_batches(
    stream: BinaryIO, sch: TripSchema, month: dt.date, stats: TripStats, what: str, zone_ids: pa.Array | None = None
):
    """The transformed batches of a month file, logging progress as rows go by."""
    next_log = 250_000
    for batch in typed_batches(stream, sch.source_names, sch.source_arrow_types(), what, sch.color):
        yield transform(batch, sch, month, stats, zone_ids)
        if stats.rows_read >= next_log:
            log.info("%s: %s rows read, %s kept", what, f"{stats.rows_read:,}", f"{stats.rows_kept:,}")
            next_log += 250_000
