"""Data-quality checks in the spirit of the course's assertions, tolerant of a real month's oddities.

The course asserts vendor_id is a known value, passenger_count > 0 and trip_distance > 0. The last
two hold by construction (the transformation removes the other rows) and are checked again on
what was written. A real month always has a few odd rows (a handful of vendor codes beyond 1 and 2,
meter clocks in 2008), so the first check, and the share of out-of-month pickups, fail only
above a threshold; a file that crosses one is more likely broken than odd.

Thresholds (shares of the rows kept):
- MAX_UNKNOWN_VENDOR_SHARE: vendor_id not 1 or 2. Real yellow/green 2019-2021: well under 0.5 %.
- MAX_OUT_OF_MONTH_SHARE: pickup date outside the file's month. Real files: under 0.1 %.
- MIN_KEPT_SHARE: rows kept of rows read. Real yellow: ~90 %; green 2020-2021: ~50 % (a long tail
  of dispatch rows with a blank passenger_count). Below it, the file is not what it used to be.

Plausibility (PLAUSIBILITY: the TripStats count, what it counts, the largest share of the kept rows
a month may have). They catch format drift that still parses: a file of dates without times, swapped
or shifted columns, ids or counts from another encoding. A real month has a few of the first three
(meters left running, clocks set wrong) and none of the others.
"""

from __future__ import annotations

from taxi_flows.core.transform import MAX_PASSENGERS, MAX_TRIP_MILES, TripStats

MAX_UNKNOWN_VENDOR_SHARE = 0.02
MAX_OUT_OF_MONTH_SHARE = 0.01
MIN_KEPT_SHARE = 0.2

PLAUSIBILITY = (
    ("times_at_midnight", "pickup and dropoff both at exactly 00:00:00", 0.01),
    ("dropoff_before_pickup", "a dropoff before the pickup", 0.01),
    ("longer_than_a_day", "a dropoff more than 24 hours after the pickup", 0.02),
    ("too_many_passengers", f"passenger_count above {MAX_PASSENGERS}", 0.0),
    ("too_long_distance", f"trip_distance above {MAX_TRIP_MILES:,.0f} miles", 0.001),
    ("unknown_zones", "a pu_location_id or do_location_id not in the zone lookup", 0.0),
    ("unknown_store_and_fwd_flag", "a store_and_fwd_flag other than Y or N", 0.0),
)


class DataQualityError(Exception):
    """The month's data fails a check: nothing of it is written."""


def problems(stats: TripStats, rows_written: int | None = None, rows_not_positive: int = 0) -> list[str]:
    """Every failed check, as a sentence; empty when the month passes."""
    found = []
    if stats.rows_read == 0:
        return ["the file has a header and no rows"]
    if stats.rows_kept == 0:
        return [f"none of the {stats.rows_read:,} rows has passenger_count > 0 and trip_distance > 0"]
    kept = stats.rows_kept
    if kept / stats.rows_read < MIN_KEPT_SHARE:
        share = kept / stats.rows_read
        found.append(
            f"only {kept:,} of {stats.rows_read:,} rows ({share:.1%}) have passenger_count > 0 and "
            f"trip_distance > 0 (minimum {MIN_KEPT_SHARE:.0%})"
        )
    if stats.unknown_vendor / kept > MAX_UNKNOWN_VENDOR_SHARE:
        share = stats.unknown_vendor / kept
        found.append(
            f"{stats.unknown_vendor:,} rows ({share:.2%}) have a vendor_id other than 1 or 2 "
            f"(maximum {MAX_UNKNOWN_VENDOR_SHARE:.0%})"
        )
    if stats.out_of_month_pickups / kept > MAX_OUT_OF_MONTH_SHARE:
        share = stats.out_of_month_pickups / kept
        found.append(
            f"{stats.out_of_month_pickups:,} rows ({share:.2%}) have a pickup outside {stats.month} "
            f"(maximum {MAX_OUT_OF_MONTH_SHARE:.0%})"
        )
    for field, what, max_share in PLAUSIBILITY:
        count = getattr(stats, field)
        if count / kept > max_share:
            limit = f"maximum {max_share:.1%}" if max_share else "a real month has none"
            found.append(f"{what} in {count:,} of {kept:,} rows kept ({count / kept:.2%}; {limit})")
    if rows_written is not None and rows_written != kept:
        found.append(f"{rows_written:,} rows were written but {kept:,} were kept")
    if rows_not_positive:
        found.append(f"{rows_not_positive:,} written rows have passenger_count or trip_distance not > 0")
    return found


def check(stats: TripStats, rows_written: int | None = None, rows_not_positive: int = 0) -> None:
    """Raise DataQualityError naming every failed check. rows_* are counted on the written rows."""
    found = problems(stats, rows_written, rows_not_positive)
    if found:
        raise DataQualityError(f"{stats.color} {stats.month} fails its data-quality checks: " + "; ".join(found))
