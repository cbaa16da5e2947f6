"""Where the taxi data lives in the bucket (the Variable taxi_gcs_bucket).

``<p>`` is ``tpep`` for yellow, ``lpep`` for green:

    <color>/<color>_tripdata_<YYYY>-<MM>.parquet                    one file per source month
    <color>_tripdata/<p>_pickup_date=<YYYY-MM-DD>/<YYYY-MM>.parquet  by pickup date, one file per
                                                                    date and source month
    <color>/<YYYY>/<MM>/<DD>/daily-trips.parquet                    the trips picked up on a day
    misc/taxi_zone_lookup.parquet                                   the zone lookup (for BigQuery)
"""

from __future__ import annotations

import datetime as dt

from taxi_flows.core.schema import trip_schema

ZONES_OBJECT = "misc/taxi_zone_lookup.parquet"


def monthly_object(color: str, month: dt.date) -> str:
    return f"{color}/{color}_tripdata_{month:%Y-%m}.parquet"


def dataset_prefix(color: str) -> str:
    return f"{color}_tripdata/"


def partition_prefix(color: str, day: dt.date) -> str:
    return f"{dataset_prefix(color)}{trip_schema(color).pickup_date}={day.isoformat()}/"


def partition_file_name(month: dt.date) -> str:
    """The name of a source month's file inside each date partition: deterministic, so a re-run
    overwrites its own files and never touches another month's."""
    return f"{month:%Y-%m}.parquet"


def daily_object(color: str, day: dt.date) -> str:
    return f"{color}/{day:%Y}/{day:%m}/{day:%d}/daily-trips.parquet"


def uri(bucket: str, name: str) -> str:
    return f"gs://{bucket}/{name}"
