"""Synthetic TLC Parquet files (<type>_tripdata_YYYY-MM.parquet) in each period's real layout: the
columns of its layout (taxi_flows.core.layouts) in their order, with the physical types the TLC's
files of that period have (PHYSICAL below, from the files' footers) and the columns it types null.

The rows are sample_data's (the mirror's quirks: a month the mirror has is the same trips in both
files), and the columns the mirror lacks are made up in plausible shares. Deterministic, like sample_data. Command line:

    python -m taxi_dev.tlc_files OUT_DIR --color yellow --month 2024-01 [--rows N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from taxi_dev import sample_data
from taxi_flows.core import layouts, schema
from taxi_flows.core.months import month_start

F64, I64, I32, STR, LSTR, NULL, TS = (
    pa.float64(),
    pa.int64(),
    pa.int32(),
    pa.string(),
    pa.large_string(),
    pa.null(),
    pa.timestamp("us"),
)


def _before(month: dt.date, first: str) -> bool:
    return month < dt.date.fromisoformat(f"{first}-01")


def _in(month: dt.date, *months: str) -> bool:
    return f"{month:%Y-%m}" in months


def physical(color: str, month: dt.date) -> dict[str, pa.DataType]:
    """The physical type of each column of the period's files that is not the table's own type."""
    if color == "yellow" and _before(month, "2011-01"):  # names for codes, 0/1 flags, 2009's times as text
        names = {"vendor_id": STR, "payment_type": STR, "store_and_fwd_flag": F64, "rate_code": I64}
        if month.year == 2009:
            names = {"vendor_name": STR, "Payment_Type": STR, "store_and_forward": F64, "Rate_Code": F64}
            names.update(Trip_Pickup_DateTime=STR, Trip_Dropoff_DateTime=STR)
        return names
    old = _before(month, "2023-02")  # counts and codes as double until 2023-01; int32 ids from 2023-02
    if color in ("yellow", "green"):
        out = (
            {"passenger_count": F64, "RatecodeID": F64}
            if old
            else {"VendorID": I32, "PULocationID": I32, "DOLocationID": I32}
        )
        if not old:
            out["store_and_fwd_flag"] = LSTR
        if color == "yellow" and _in(month, "2020-10"):
            out["airport_fee"] = NULL
        if color == "green":
            out.update({"payment_type": F64, "trip_type": F64} if old else {})
            if not _before(month, "2019-09") and old:
                out["ehail_fee"] = NULL
        return out
    if color == "fhv":
        ids = F64 if _in(month, "2019-05", "2019-07", "2020-07", "2020-08") else I64
        flag = F64 if _before(month, "2019-03") else NULL if old else I64
        return {"PUlocationID": ids, "DOlocationID": ids, "SR_Flag": flag}
    return {"airport_fee": NULL} if _in(month, "2020-01", "2020-02", "2020-03", "2020-04", "2020-05") else {}


def _extra_values(rng: np.random.Generator, color: str, values: dict, n: int) -> tuple[dict, dict]:
    """The TLC's columns the mirror lacks, made up."""
    pickup = values.get("pickup_datetime")
    extra: dict[str, np.ndarray] = {}
    if color == "yellow":
        for end, lon, lat in (("pickup", -73.98, 40.75), ("dropoff", -73.97, 40.76)):
            extra[f"{end}_longitude"] = np.round(lon + rng.normal(0, 0.04, n), 6)
            extra[f"{end}_latitude"] = np.round(lat + rng.normal(0, 0.04, n), 6)
    if color in ("yellow", "green"):
        extra["airport_fee"] = sample_data._choice(rng, [0.0, 1.75], [92, 8], n)
        extra["cbd_congestion_fee"] = sample_data._choice(rng, [0.75, 0.0], [70, 30], n)
    elif color == "fhvhv":
        miles = np.round(rng.lognormal(1.2, 0.8, n), 2)
        fare = np.round(5 + 2.1 * miles + rng.normal(0, 2, n).clip(-3, 8), 2)
        seconds = (values["dropoff_datetime"] - pickup).astype("timedelta64[s]").astype(np.int64)
        flags = {
            f: sample_data._choice(rng, ["N", "Y"], [95, 5], n)
            for f in (
                "shared_request_flag",
                "shared_match_flag",
                "access_a_ride_flag",
                "wav_request_flag",
                "wav_match_flag",
            )
        }
        extra.update(
            originating_base_num=values["dispatching_base_num"],
            request_datetime=pickup - rng.integers(60, 900, n).astype("timedelta64[s]"),
            on_scene_datetime=pickup - rng.integers(0, 120, n).astype("timedelta64[s]"),
            trip_miles=miles,
            trip_time=seconds,
            base_passenger_fare=fare,
            tolls=np.where(rng.random(n) < 0.05, 6.94, 0.0),
            bcf=np.round(fare * 0.025, 2),
            sales_tax=np.round(fare * 0.08875, 2),
            congestion_surcharge=np.full(n, 2.75),
            airport_fee=np.zeros(n),
            tips=np.where(rng.random(n) < 0.2, 3.0, 0.0),
            driver_pay=np.round(fare * 0.72, 2),
            cbd_congestion_fee=np.full(n, 1.5),
            **flags,
        )
    masks = {name: np.zeros(n, dtype=bool) for name in extra}
    if "on_scene_datetime" in masks:
        masks["on_scene_datetime"] = values["hvfhs_license_num"] != "HV0003"  # accessible dispatches only
    return extra, masks


def tlc_table(color: str, month: dt.date, rows: int, part: sample_data.Part = sample_data.WHOLE) -> pa.Table:
    """One month file of the TLC (or the part-th slice of it: sample_data.trip_values): the period's
    layout, its physical types, the mirror's quirks."""
    sch = schema.trip_schema(color)
    layout = layouts.layout_of(color, layouts.TLC, month)
    rng = np.random.default_rng(sample_data._seed(f"tlc:{color}:{month:%Y-%m}:{rows}", part))
    values, masks = sample_data.trip_values(color, month, rows, part)  # the mirror's trips, where it has the month
    extra, extra_masks = _extra_values(rng, color, values, rows)
    values, masks = {**extra, **values}, {**extra_masks, **masks}
    types = physical(color, month)
    columns = {}
    for name, target in layout.columns:
        typ = types.get(name, sch.kind(target).arrow())
        if pa.types.is_null(typ):
            columns[name] = pa.nulls(rows)
            continue
        data = _named(values[target], name, layout, month)
        if pa.types.is_string(typ) and np.issubdtype(np.asarray(data).dtype, np.datetime64):
            data = np.datetime_as_string(data, unit="s")
            data = np.char.replace(data.astype(str), "T", " ")  # 2009: "2009-01-04 02:52:00"
        columns[name] = pa.array(data, mask=masks[target]).cast(typ)
    for name in layout.dropped if _in(month, "2010-02", "2010-03") else ():
        columns[name] = pa.array(np.arange(rows))  # pandas' index, written as a column
    return pa.table(columns)


# How 2009 and 2010 spell the codes (taxi_flows.core.layouts' code tables read them back).
_SPELLING = {
    2009: {"Payment_Type": {1: "Credit", 2: "CASH", 3: "No Charge", 4: "Dispute"}},
    2010: {"payment_type": {1: "CRD", 2: "CSH", 3: "NOC", 4: "DIS"}},
}
_VENDOR_NAMES = {1: "CMT", 2: "VTS"}  # and DDS for the sample's other codes


def _named(data: np.ndarray, name: str, layout: layouts.Layout, month: dt.date) -> np.ndarray:
    """The values of a coded column as the period's files write them: names, or 0/1 for a flag."""
    if not layout.code_table(name):
        return data
    if name in ("vendor_name", "vendor_id"):
        return np.array([_VENDOR_NAMES.get(int(v), "DDS") for v in data])
    if name in ("store_and_forward", "store_and_fwd_flag"):
        return (data == "Y").astype(float)
    spelling = _SPELLING[month.year][name]
    return np.array([spelling.get(int(v), "UNK") for v in data])


ROW_GROUP_ROWS = 100_000  # as the TLC's writer does
SLICE_ROWS = 20 * ROW_GROUP_ROWS  # a larger file is made a slice of the month's time at a time (memory stays flat)


def write_tlc(path: Path, color: str, month: dt.date, rows: int) -> Path:
    """Write one month file (atomically), in row groups of ROW_GROUP_ROWS rows. A file of more than
    SLICE_ROWS rows is written in pickup order a slice of the month at a time, as a full-size month
    (20M fhvhv rows) does not fit in memory at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    count = -(-rows // SLICE_ROWS)
    with pq.ParquetWriter(tmp, tlc_table(color, month, 1).schema, compression="snappy") as writer:
        for index in range(count):
            size = min(SLICE_ROWS, rows - index * SLICE_ROWS)
            table = tlc_table(color, month, size, (index, count) if count > 1 else sample_data.WHOLE)
            writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path, help="the trip-data folder: <type>_tripdata_YYYY-MM.parquet")
    parser.add_argument("--color", choices=schema.COLORS, action="append", help="default: yellow and green")
    parser.add_argument("--month", action="append", required=True, help="YYYY-MM (repeatable)")
    parser.add_argument("--rows", type=int, default=sample_data.SMALL_ROWS)
    args = parser.parse_args(argv)
    for color in args.color or schema.DEFAULT_COLORS:
        for m in args.month:
            month = month_start(m)
            path = write_tlc(args.out_dir / f"{color}_tripdata_{month:%Y-%m}.parquet", color, month, args.rows)
            print(f"{path}: {args.rows:,} rows, {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
