"""Realistic sample trip files, shaped like the DataTalksClub re-hosted TLC CSVs.

A month file has the trip type's real header (its layout: taxi_flows.core.layouts) and the quirks
of the real files, in shares close to theirs (yellow 2021-01, green 2020-10..12 as measured by the
course; fhv and fhvhv: blank location ids and SR_Flag, base numbers):

- a tail of dispatch rows with blank VendorID, passenger_count, RatecodeID, store_and_fwd_flag
  and payment_type (yellow ~7 % from 2020, green ~40 % from 2020, less in 2019);
- pickups outside the file's month (~0.03 %: 2008/2009 and the neighbouring months);
- zero passengers (~2 %) and zero distances (yellow ~1.5 %, green ~5 %);
- VendorID values beyond 1 and 2 (~0.3 %: 4, 5 and 6);
- exact duplicate rows (~0.05 %);
- meters left running or set wrong: dropoffs before their pickup (~0.02 %), trips over a day (~0.1 %);
- green's ehail_fee always empty; store_and_fwd_flag N/Y with blanks;
- congestion_surcharge blank throughout 2019-01 and in ~5 % of the other 2019 rows.

Files are deterministic (seeded by colour, month and size). `full` sizes are the real ones of
2021-01 (yellow: 1,369,765 rows; fhv and fhvhv about theirs). Command line:

    python -m taxi_dev.sample_data OUT_DIR --color yellow --month 2021-01 [--rows N | --full]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from taxi_dev.sample_zones import write_zones
from taxi_flows.core import layouts, schema, source
from taxi_flows.core.months import month_start, next_month

# The real sizes of 2021-01 (yellow, green: exact; fhv, fhvhv: about).
FULL_ROWS = {"yellow": 1_369_765, "green": 76_518, "fhv": 1_154_000, "fhvhv": 11_908_000}
SMALL_ROWS = 2_000
Part = tuple[int, int]  # (i, k): the i-th of k equal slices of a month's time
WHOLE: Part = (0, 1)

_BLANK_IN_TAIL = ("vendor_id", "passenger_count", "ratecode_id", "store_and_fwd_flag", "payment_type", "trip_type")


def _blank_tail_share(color: str, month: dt.date) -> float:
    if color == "yellow":
        return 0.072 if month.year >= 2020 else 0.005
    return 0.40 if month.year >= 2020 else 0.08


def _choice(rng: np.random.Generator, values: list, weights: list[float], n: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(np.asarray(values), size=n, p=p / p.sum())


def _seed(text: str, part: Part) -> int:
    return zlib.crc32((text if part == WHOLE else f"{text}:{part[0]}/{part[1]}").encode())


def _times(rng: np.random.Generator, color: str, month: dt.date, rows: int, tail: int, part: Part = WHOLE):
    """Pickup and dropoff times: in the month (or its part-th slice) but for a few out-of-month
    clocks, roughly in pickup order (the dispatch rows of a blank tail, appended at the end, cover
    the month again), and a few meters left running or set wrong."""
    n = rows
    start = dt.datetime(month.year, month.month, 1)
    end = dt.datetime.combine(next_month(month), dt.time())
    seconds = int((end - start).total_seconds())
    index, count = part
    low, high = seconds * index // count, seconds * (index + 1) // count
    pickup = np.datetime64(start, "s") + rng.integers(low, high, n).astype("timedelta64[s]")
    odd = rng.random(n) < 0.0003
    odd_days = np.array(
        [
            np.datetime64("2008-12-31"),
            np.datetime64("2009-01-01"),
            np.datetime64(start - dt.timedelta(days=1), "D"),
            np.datetime64(end, "D"),
        ]
    )
    pickup[odd] = rng.choice(odd_days, odd.sum()).astype("datetime64[s]") + rng.integers(0, 86_400, odd.sum()).astype(
        "timedelta64[s]"
    )
    pickup[: n - tail].sort()
    pickup[n - tail :].sort()
    dropoff = pickup + (rng.exponential(700, n) + 60).astype("timedelta64[s]")
    # Meters left running or set wrong (drawn apart, so the other columns stay as they were).
    meter = np.random.default_rng(_seed(f"meter:{color}:{month:%Y-%m}:{rows}", part)).random(n)
    dropoff[meter < 0.0002] = pickup[meter < 0.0002] - np.timedelta64(300, "s")
    over_a_day = (meter >= 0.0002) & (meter < 0.0012)
    dropoff[over_a_day] += np.timedelta64(86_400, "s")
    return pickup, dropoff


def _taxi_values(rng: np.random.Generator, color: str, month: dt.date, n: int, part: Part) -> tuple[dict, dict]:
    """A yellow or green month's values and NULL masks, by target column."""
    sch = schema.trip_schema(color)
    tail = int(n * _blank_tail_share(color, month))
    pickup, dropoff = _times(rng, color, month, n, tail, part)
    zero_distance = 0.015 if color == "yellow" else 0.05
    distance = np.round(rng.lognormal(0.6, 0.9, n), 2)
    distance[rng.random(n) < zero_distance] = 0.0
    fare = np.round(2.5 + 2.5 * distance + rng.normal(0, 1.5, n).clip(-2, 6), 1)
    extra = _choice(rng, [0.0, 0.5, 1.0, 2.5, 3.0], [40, 35, 10, 10, 5], n)
    mta_tax = np.full(n, 0.5)
    payment = _choice(rng, [1, 2, 3, 4], [70, 28, 1, 1], n)
    tip = np.where(payment == 1, np.round(fare * rng.uniform(0.1, 0.3, n), 2), 0.0)
    tolls = np.where(rng.random(n) < 0.05, 6.12, 0.0)
    improvement = np.full(n, 0.3)
    congestion = _choice(rng, [2.5, 0.0], [90, 10] if color == "yellow" else [20, 80], n)
    total = np.round(fare + extra + mta_tax + tip + tolls + improvement + congestion, 2)

    values = {
        "vendor_id": _choice(rng, [2, 1, 4, 5, 6], [69.7, 30.0, 0.2, 0.05, 0.05], n),
        sch.pickup_datetime: pickup,
        sch.dropoff_datetime: dropoff,
        "passenger_count": _choice(rng, [1, 2, 3, 4, 5, 6, 0], [70, 14, 4, 2, 5, 3, 2], n),
        "trip_distance": distance,
        "ratecode_id": _choice(rng, [1, 2, 3, 4, 5, 99], [96.5, 2, 0.3, 0.2, 0.9, 0.1], n),
        "store_and_fwd_flag": _choice(rng, ["N", "Y"], [99, 1], n),
        "pu_location_id": rng.integers(1, 266, n),
        "do_location_id": rng.integers(1, 266, n),
        "payment_type": payment,
        "fare_amount": fare,
        "extra": extra,
        "mta_tax": mta_tax,
        "tip_amount": tip,
        "tolls_amount": tolls,
        "improvement_surcharge": improvement,
        "total_amount": total,
        "congestion_surcharge": congestion,
        "ehail_fee": np.full(n, np.nan),
        "trip_type": _choice(rng, [1, 2], [95, 5], n),
    }
    masks = {name: np.zeros(n, dtype=bool) for name in values}
    masks["ehail_fee"][:] = True
    # The blank tail: dispatch rows at the end of the file.
    for name in _BLANK_IN_TAIL:
        masks[name][n - tail :] = True
    masks["store_and_fwd_flag"] |= rng.random(n) < 0.001
    if month.year == 2019:
        masks["congestion_surcharge"] |= True if month.month == 1 else rng.random(n) < 0.05
    return values, masks


def _bases(rng: np.random.Generator, n: int) -> np.ndarray:
    return np.char.add("B0", rng.integers(2000, 3300, n).astype(str))


def _for_hire_values(rng: np.random.Generator, color: str, month: dt.date, n: int, part: Part) -> tuple[dict, dict]:
    """An fhv or fhvhv month's values and NULL masks, by target column (the mirror's columns)."""
    pickup, dropoff = _times(rng, color, month, n, 0, part)
    values = {
        "dispatching_base_num": _bases(rng, n),
        "pickup_datetime": pickup,
        "dropoff_datetime": dropoff,
        "pu_location_id": rng.integers(1, 266, n),
        "do_location_id": rng.integers(1, 266, n),
        "sr_flag": np.ones(n, dtype=np.int64),
    }
    masks = {name: np.zeros(n, dtype=bool) for name in values}
    if color == "fhv":  # location ids are often blank in fhv files; SR_Flag mostly
        values["affiliated_base_number"] = _bases(rng, n)
        masks["affiliated_base_number"] = rng.random(n) < 0.05
        masks["pu_location_id"] = rng.random(n) < 0.3
        masks["do_location_id"] = rng.random(n) < 0.2
        masks["sr_flag"] = rng.random(n) < 0.99
    else:
        values["hvfhs_license_num"] = _choice(rng, ["HV0003", "HV0005", "HV0004", "HV0002"], [70, 22, 3, 5], n)
        masks["hvfhs_license_num"] = np.zeros(n, dtype=bool)
        masks["sr_flag"] = rng.random(n) < 0.9
    return values, masks


def trip_values(color: str, month: dt.date, rows: int, part: Part = WHOLE) -> tuple[dict, dict]:
    """A month's trips, by target column: values and NULL masks (the same trips in the mirror's
    file and the TLC's, taxi_dev.tlc_files). part=(i, k): the trips of the i-th of k equal slices
    of the month's time, for a file written a slice at a time."""
    sch = schema.trip_schema(color)
    rng = np.random.default_rng(_seed(f"{color}:{month:%Y-%m}:{rows}", part))
    make = _taxi_values if sch.clean_condition else _for_hire_values
    values, masks = make(rng, color, month, rows, part)
    # Exact duplicates: copy a few rows over their successors.
    dup = np.flatnonzero(rng.random(rows - 1) < 0.0005)
    for name in values:
        values[name][dup + 1] = values[name][dup]
        masks[name][dup + 1] = masks[name][dup]
    return values, masks


def trips_table(color: str, month: dt.date, rows: int) -> pa.Table:
    """The rows of one month file of the mirror, with its names and types, quirks included."""
    sch = schema.trip_schema(color)
    layout = layouts.layout_of(color, layouts.MIRROR, month)
    values, masks = trip_values(color, month, rows)

    columns = {}
    for name, target in layout.columns:
        typ = sch.kind(target).arrow()
        typ = pa.timestamp("s") if typ == pa.timestamp("us") else typ
        columns[name] = pa.array(values[target], type=typ, mask=masks[target])
    return pa.table(columns)


def write_trips(path: Path, color: str, month: dt.date, rows: int) -> Path:
    """Write one gzipped month file (atomically: a reader never sees half a file)."""
    table = trips_table(color, month, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with gzip.open(tmp, "wb", compresslevel=6) as out:
        out.write((",".join(table.column_names) + "\n").encode())
        options = pacsv.WriteOptions(include_header=False, quoting_style="none", batch_size=65_536)
        pacsv.write_csv(table, out, options)
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, help="folder laid out like the releases: <color>/<file>")
    parser.add_argument("--color", choices=schema.COLORS, action="append", help="default: yellow and green")
    parser.add_argument("--month", action="append", required=True, help="YYYY-MM (repeatable)")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--rows", type=int, default=SMALL_ROWS)
    size.add_argument("--full", action="store_true", help="the real size of a month")
    args = parser.parse_args(argv)
    for color in args.color or schema.DEFAULT_COLORS:
        for m in args.month:
            month = month_start(m)
            rows = FULL_ROWS[color] if args.full else args.rows
            path = write_trips(args.out_dir / color / source.trip_file_name(color, month), color, month, rows)
            print(f"{path}: {rows:,} rows, {path.stat().st_size:,} bytes")
    write_zones(args.out_dir / source.ZONES_PATH)


if __name__ == "__main__":
    main()
