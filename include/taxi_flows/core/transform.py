"""Parse a month file as a stream of Arrow batches and apply the course's transformations.

The file is parsed by taxi_flows.core.csv_reader, a block at a time: memory does not grow with
the file.

The course's transformations, per batch, on every row of the file (none is dropped):
- the file's names to the table's (its layout, taxi_flows.core.layouts: VendorID -> vendor_id,
  PULocationID -> pu_location_id, fhv's dropOff_datetime -> dropoff_datetime); a column of the
  table the layout does not fill is NULL;
- add the pickup date column (date part of the naive pickup time) and source_month.

The course's cleaning of the taxi colours (the 2024 homework: passenger_count > 0 and
trip_distance > 0) is not applied here: the targets keep every row and the views
``<color>_tripdata_clean`` apply it. Each of its rules is counted instead (passenger_count first,
then trip_distance of the rest; a blank value is not > 0, so the blank tail of dispatch rows goes
with the first rule), for the log, the load summary and the check that the view holds as many rows.

Besides, every row is counted against the checks of taxi_flows.core.quality, those of its
type's columns (fhv and fhvhv have no vendor, passenger count or meter fare): vendor codes,
out-of-month pickups, values no meter writes: NaN or infinite numbers, times after the load, NUL
bytes in text; pickups or dropoffs without a time of day, dropoff before pickup, trips longer than
a day, negative fares, passenger counts and distances beyond sane bounds, location ids not in the
zone lookup, store_and_fwd_flag not Y/N.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import BinaryIO

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from taxi_flows.core.body import SourceError
from taxi_flows.core.csv_reader import typed_batches
from taxi_flows.core.layouts import Layout
from taxi_flows.core.months import next_month
from taxi_flows.core.schema import TripSchema, trip_schema

log = logging.getLogger(__name__)

KNOWN_VENDORS = (1, 2, 6, 7)  # the TLC's data dictionary (2025): CMT, Curb, Myle, Helix
MAX_PASSENGERS = 9  # the most a real row has (2019-2021); more is a broken file
MAX_TRIP_MILES = 1_000.0  # farther than any taxi trip from NYC goes
STORE_AND_FWD_FLAGS = ("Y", "N")


@dataclass
class TripStats:
    """What a load saw, for the task log, the quality checks and the task's return value."""

    color: str
    month: str
    rows_read: int = 0  # every data row of the file; every one is written
    # The course's cleaning, counted (the rows of the views <color>_tripdata_clean; None for fhv, fhvhv):
    rows_clean: int | None = 0  # passenger_count > 0 and trip_distance > 0
    cleaning_removes_passenger_count: int = 0  # passenger_count blank or not > 0
    cleaning_removes_trip_distance: int = 0  # (of the rest) trip_distance blank or not > 0
    # On every row (taxi_flows.core.quality holds the thresholds):
    blank_vendor: int = 0  # VendorID blank: the tail of dispatch rows
    unknown_vendor: int = 0  # VendorID not blank and not in known_vendors
    known_vendors: tuple[int, ...] = KNOWN_VENDORS  # and the codes of the layout's vendor names (2009-2010)
    out_of_month_pickups: int = 0  # pickup date outside the file's month
    # Values no meter writes (none allowed):
    non_finite: dict[str, int] = field(default_factory=dict)  # NaN or ±Inf, per numeric column
    nul_bytes: dict[str, int] = field(default_factory=dict)  # a NUL byte in text, per text column
    future_times: int = 0  # a pickup or dropoff after loaded_at (fhv 2019-02 has a dropoff in 3019)
    loaded_at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat())
    pickup_at_midnight: int = 0  # pickup at exactly 00:00:00 (times without a time of day)
    dropoff_at_midnight: int = 0
    negative_fares: int = 0  # fare_amount (fhvhv: base_passenger_fare) < 0: refunds are real; a month is not
    dropoff_before_pickup: int = 0
    longer_than_a_day: int = 0  # dropoff more than 24 h after pickup
    too_many_passengers: int = 0  # passenger_count > MAX_PASSENGERS
    too_long_distance: int = 0  # trip_distance (fhvhv: trip_miles) > MAX_TRIP_MILES
    unknown_zones: int = 0  # pu_location_id or do_location_id not in the zone lookup
    unknown_store_and_fwd_flag: int = 0  # store_and_fwd_flag neither Y nor N (blank is fine)
    pickup_dates: set[dt.date] = field(default_factory=set, repr=False)
    clean_vendor_ids: set[int | None] | None = field(default_factory=set, repr=False)  # of the cleaned rows

    def __post_init__(self) -> None:
        if trip_schema(self.color).clean_condition is None:  # fhv, fhvhv: the course does not clean them
            self.rows_clean = self.clean_vendor_ids = None

    def summary(self) -> dict:
        """The figures, with the pickup dates and the cleaned rows' vendor ids as sorted lists: the
        coverage page's homework view answers from them, never from a scan of the rows."""
        out = asdict(self)
        dates = out.pop("pickup_dates")
        out["pickup_date_min"] = min(dates).isoformat() if dates else None
        out["pickup_date_max"] = max(dates).isoformat() if dates else None
        out["pickup_dates"] = [d.isoformat() for d in sorted(dates)]
        if self.clean_vendor_ids is not None:  # a blank vendor id last
            out["clean_vendor_ids"] = sorted(self.clean_vendor_ids, key=lambda v: (v is None, v or 0))
        return out


def _count_true(mask: pa.Array) -> int:
    return pc.sum(mask).as_py() or 0  # the sum of an empty array is null


def _first(rows: dict[str, pa.Array], *names: str) -> pa.Array | None:
    """The first of the columns the type has (None: none of them)."""
    return next((rows[name] for name in names if name in rows), None)


def _count_plausibility(rows: dict[str, pa.Array], sch: TripSchema, stats: TripStats, zone_ids: pa.Array | None):
    """Count the rows of a batch that real months (almost) never have, on the columns the type has."""
    pickup, dropoff = rows[sch.pickup_datetime], rows[sch.dropoff_datetime]
    stats.pickup_at_midnight += _count_true(pc.equal(pc.floor_temporal(pickup, unit="day"), pickup))
    stats.dropoff_at_midnight += _count_true(pc.equal(pc.floor_temporal(dropoff, unit="day"), dropoff))
    now = pa.scalar(dt.datetime.fromisoformat(stats.loaded_at), pickup.type)
    stats.future_times += _count_true(pc.or_(pc.greater(pickup, now), pc.greater(dropoff, now)))
    stats.dropoff_before_pickup += _count_true(pc.less(dropoff, pickup))
    day = pa.scalar(dt.timedelta(days=1), pa.duration(pickup.type.unit))
    stats.longer_than_a_day += _count_true(pc.greater(pc.subtract(dropoff, pickup), day))
    fare = _first(rows, "fare_amount", "base_passenger_fare")
    if fare is not None:
        stats.negative_fares += _count_true(pc.less(fare, 0))
    if "passenger_count" in rows:
        stats.too_many_passengers += _count_true(pc.greater(rows["passenger_count"], MAX_PASSENGERS))
    distance = _first(rows, "trip_distance", "trip_miles")
    if distance is not None:
        stats.too_long_distance += _count_true(pc.greater(distance, MAX_TRIP_MILES))
    if zone_ids is not None:
        unknown = [
            pc.and_(pc.is_valid(ids), pc.invert(pc.is_in(ids, zone_ids)))
            for ids in (rows["pu_location_id"], rows["do_location_id"])
        ]
        stats.unknown_zones += _count_true(pc.or_(*unknown))
    if "store_and_fwd_flag" in rows:
        flag = rows["store_and_fwd_flag"]
        known = pc.is_in(flag, pa.array(STORE_AND_FWD_FLAGS))
        stats.unknown_store_and_fwd_flag += _count_true(pc.and_(pc.is_valid(flag), pc.invert(known)))
    for name, values in rows.items():
        if pa.types.is_floating(values.type):
            bad = _count_true(pc.invert(pc.is_finite(values)))  # NaN or ±Inf (a null is neither)
        elif pa.types.is_dictionary(values.type):  # text as the file stored it: its distinct values first
            with_nul = pc.fill_null(pc.match_substring(values.dictionary, "\x00"), False).to_numpy(zero_copy_only=False)
            codes = pa.array(np.flatnonzero(with_nul), values.indices.type)
            bad = _count_true(pc.is_in(values.indices, codes)) if len(codes) else 0
        elif pa.types.is_string(values.type):
            bad = _count_true(pc.match_substring(values, "\x00"))
        else:
            continue
        if bad:
            counts = stats.non_finite if pa.types.is_floating(values.type) else stats.nul_bytes
            counts[name] = counts.get(name, 0) + bad
    if stats.nul_bytes:  # at once: no target stores one (PostgreSQL's COPY would refuse the row)
        found = "; ".join(f"{c}: a NUL byte in {n:,} of its values" for c, n in sorted(stats.nul_bytes.items()))
        raise SourceError(f"{stats.color} {stats.month} fails its data-quality checks: {found}")


def _count_cleaning(rows: dict[str, pa.Array], stats: TripStats) -> None:
    """The course's cleaning of the taxi colours, rule by rule (a blank value is not > 0)."""
    n = len(rows["passenger_count"])
    passengers = pc.fill_null(pc.greater(rows["passenger_count"], 0), False)
    clean = pc.and_(passengers, pc.fill_null(pc.greater(rows["trip_distance"], 0), False))
    with_passengers, rows_clean = _count_true(passengers), _count_true(clean)
    stats.clean_vendor_ids.update(pc.unique(pc.filter(rows["vendor_id"], clean)).to_pylist())
    stats.rows_clean += rows_clean
    stats.cleaning_removes_passenger_count += n - with_passengers
    stats.cleaning_removes_trip_distance += with_passengers - rows_clean


def to_target(batch: pa.RecordBatch, layout: Layout, sch: TripSchema) -> dict[str, pa.Array]:
    """A parsed batch (the file's names, the table's types) as the table's trip columns, in order:
    the columns the layout fills, NULL for the others."""
    by_target = {layout.targets[name]: column for name, column in zip(batch.schema.names, batch.columns, strict=True)}
    n = batch.num_rows
    return {c.name: by_target[c.name] if c.name in by_target else pa.nulls(n, c.kind.arrow()) for c in sch.trip_columns}


def transform(
    rows: dict[str, pa.Array], sch: TripSchema, month: dt.date, stats: TripStats, zone_ids: pa.Array | None = None
) -> pa.RecordBatch:
    """One batch of the table's trip columns (to_target) to the rows we write: every row, the derived
    columns added, and counted. zone_ids: the location ids of the zone lookup (None: not checked)."""
    n = len(rows[sch.pickup_datetime])
    stats.rows_read += n
    if stats.rows_clean is not None:
        _count_cleaning(rows, stats)

    pickup_date = pc.cast(rows[sch.pickup_datetime], pa.date32())
    source_month = pa.array(np.full(n, np.datetime64(month, "D")))

    if "vendor_id" in rows:
        vendor = rows["vendor_id"]
        blank_vendor = vendor.null_count
        stats.blank_vendor += blank_vendor
        stats.unknown_vendor += (
            n - blank_vendor - _count_true(pc.is_in(vendor, pa.array(stats.known_vendors, pa.int64())))
        )
    in_month = pc.and_(
        pc.greater_equal(pickup_date, pa.scalar(month, pa.date32())),
        pc.less(pickup_date, pa.scalar(next_month(month), pa.date32())),
    )
    stats.out_of_month_pickups += n - _count_true(in_month)
    stats.pickup_dates.update(pc.unique(pickup_date).drop_null().to_pylist())
    _count_plausibility(rows, sch, stats, zone_ids)

    text = [v.dictionary_decode() if pa.types.is_dictionary(v.type) else v for v in rows.values()]  # plain text
    return pa.RecordBatch.from_arrays([*text, pickup_date, source_month], schema=sch.arrow_schema)


def trip_batches(
    stream: BinaryIO,
    layout: Layout,
    sch: TripSchema,
    month: dt.date,
    stats: TripStats,
    what: str,
    zone_ids: pa.Array | None = None,
    blocks_per_batch: int = 1,
):
    """The transformed batches of a CSV month file in `layout` (blocks_per_batch: csv_reader's)."""
    types = {name: sch.kind(target).arrow() for name, target in layout.columns}
    parsed = typed_batches(stream, layout.source_names, types, what, sch.color, blocks_per_batch)
    return transformed(parsed, layout, sch, month, stats, what, zone_ids)


def transformed(
    parsed: Iterable[pa.RecordBatch],
    layout: Layout,
    sch: TripSchema,
    month: dt.date,
    stats: TripStats,
    what: str,
    zone_ids: pa.Array | None = None,
) -> Iterator[pa.RecordBatch]:
    """Parsed batches (the file's names, the table's types) transformed, logging progress as rows go by."""
    next_log = 250_000
    for batch in parsed:
        yield transform(to_target(batch, layout, sch), sch, month, stats, zone_ids)
        if stats.rows_read >= next_log:
            log.info("%s: %s rows read", what, f"{stats.rows_read:,}")
            next_log += 250_000
