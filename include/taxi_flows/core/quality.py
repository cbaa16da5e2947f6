"""Data-quality checks on every row of a month file, with thresholds that real months pass.

Every row of the file is written, so the checks are on all of them: the blank tail of dispatch
rows, zero passengers and zero distances are normal in the raw files and are loaded (the course's
cleaning, which removes them, is the view ``<color>_tripdata_clean``). What the checks stop is a
file that is more likely broken than odd. Thresholds, as shares of the rows in the file:

- MAX_UNKNOWN_VENDOR_SHARE: a VendorID that is neither blank (the dispatch tail) nor a code of the
  TLC's dictionary (1 CMT, 2 Curb, 6 Myle, 7 Helix; transform.KNOWN_VENDORS). Real months have a few
  other codes (4, 5), well under 0.5 %.
- MAX_OUT_OF_MONTH_SHARE: pickup date outside the file's month. Real files: under 0.1 %.
- MIN_CLEAN_SHARE: rows the course's cleaning keeps (passenger_count > 0 and trip_distance > 0;
  yellow and green only).
  Real yellow: ~90 %; green 2020-2021: ~50 % (a long tail of dispatch rows with a blank
  passenger_count). Below it, the columns are not what they used to be (a shifted or emptied column).

Values no meter writes fail a month whatever their share, naming the column and the count: NaN or
±Inf in a numeric column, a NUL byte in a text column (PostgreSQL cannot store one).

Plausibility (PLAUSIBILITY: the TripStats count, what it counts, the largest share of the rows a
month may have). They catch format drift that still parses: pickups or dropoffs without a time of
day (1 row in 86,400 is at 00:00:00 by chance), swapped or shifted columns, distances in another
unit, fares of the wrong sign, ids or counts from another encoding, times in the future. A real
month has a few of the first seven (fhv 2019-02 has a dropoff in 3019, kept as it is; meters left
running, clocks set wrong, the dispatch tail's odd distances, refunds) and none of the others.
Each check runs on the columns its trip type has (fhv has no fare, passenger count or distance).

The counts reconcile too: as many rows written as read, and where the target can count them (the
PostgreSQL load does), as many rows of the clean view as the cleaning's count.
"""

from __future__ import annotations

from taxi_flows.core.transform import KNOWN_VENDORS, MAX_PASSENGERS, MAX_TRIP_MILES, TripStats

MAX_UNKNOWN_VENDOR_SHARE = 0.02
MAX_OUT_OF_MONTH_SHARE = 0.01
MIN_CLEAN_SHARE = 0.2
VENDOR_CODES = ", ".join(map(str, KNOWN_VENDORS))

PLAUSIBILITY = (
    ("future_times", "a pickup or dropoff after the moment of the load", 0.001),
    ("pickup_at_midnight", "a pickup at exactly 00:00:00", 0.01),
    ("dropoff_at_midnight", "a dropoff at exactly 00:00:00", 0.01),
    ("dropoff_before_pickup", "a dropoff before the pickup", 0.01),
    ("longer_than_a_day", "a dropoff more than 24 hours after the pickup", 0.02),
    ("too_long_distance", f"trip_distance above {MAX_TRIP_MILES:,.0f} miles", 0.005),
    ("negative_fares", "a negative fare_amount", 0.05),
    ("too_many_passengers", f"passenger_count above {MAX_PASSENGERS}", 0.0),
    ("unknown_zones", "a pu_location_id or do_location_id not in the zone lookup", 0.0),
    ("unknown_store_and_fwd_flag", "a store_and_fwd_flag other than Y or N", 0.0),
)


class DataQualityError(Exception):
    """The month's data fails a check: nothing of it is written."""


def problems(stats: TripStats, rows_written: int | None = None, rows_clean_written: int | None = None) -> list[str]:
    """Every failed check, as a sentence; empty when the month passes. rows_written and
    rows_clean_written: counted on what was written (None: not counted)."""
    found = []
    read = stats.rows_read
    if read == 0:
        return ["the file has a header and no rows"]
    if stats.rows_clean is not None and stats.rows_clean / read < MIN_CLEAN_SHARE:
        found.append(
            f"only {stats.rows_clean:,} of {read:,} rows ({stats.rows_clean / read:.1%}) have passenger_count > 0 "
            f"and trip_distance > 0 (minimum {MIN_CLEAN_SHARE:.0%})"
        )
    if stats.unknown_vendor / read > MAX_UNKNOWN_VENDOR_SHARE:
        found.append(
            f"{stats.unknown_vendor:,} of {read:,} rows ({stats.unknown_vendor / read:.2%}) have a vendor_id other "
            f"than {VENDOR_CODES} or blank (maximum {MAX_UNKNOWN_VENDOR_SHARE:.0%})"
        )
    if stats.out_of_month_pickups / read > MAX_OUT_OF_MONTH_SHARE:
        found.append(
            f"{stats.out_of_month_pickups:,} of {read:,} rows ({stats.out_of_month_pickups / read:.2%}) have a pickup "
            f"outside {stats.month} (maximum {MAX_OUT_OF_MONTH_SHARE:.0%})"
        )
    for column, n in sorted(stats.non_finite.items()):
        found.append(f"{column}: {n:,} values that are NaN or infinite (a meter writes numbers)")
    for column, n in sorted(stats.nul_bytes.items()):
        found.append(f"{column}: a NUL byte in {n:,} of its values")
    for field, what, max_share in PLAUSIBILITY:
        count = getattr(stats, field)
        if count / read > max_share:
            limit = f"maximum {max_share:.1%}" if max_share else "a real month has none"
            found.append(f"{what} in {count:,} of {read:,} rows ({count / read:.2%}; {limit})")
    if rows_written is not None and rows_written != read:
        found.append(f"{rows_written:,} rows were written but the file has {read:,}")
    if None not in (rows_clean_written, stats.rows_clean) and rows_clean_written != stats.rows_clean:
        found.append(
            f"{rows_clean_written:,} written rows pass the course's cleaning but {stats.rows_clean:,} of the file's do"
        )
    return found


def check(stats: TripStats, rows_written: int | None = None, rows_clean_written: int | None = None) -> None:
    """Raise DataQualityError naming every failed check."""
    found = problems(stats, rows_written, rows_clean_written)
    if found:
        raise DataQualityError(f"{stats.color} {stats.month} fails its data-quality checks: " + "; ".join(found))
