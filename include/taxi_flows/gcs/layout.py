"""Where the taxi data lives in the bucket (the Variable taxi_gcs_bucket).

``<p>`` is ``tpep`` for yellow, ``lpep`` for green:

    <color>/<color>_tripdata_<YYYY>-<MM>.parquet                    one file per source month
    <color>_tripdata/<p>_pickup_date=<YYYY-MM-DD>/<YYYY-MM>_<load>.parquet
                                                                    by pickup date, one file per
                                                                    date, source month and load
                                                                    (and <YYYY-MM>_<load>.1.parquet
                                                                    for a date's rows that came
                                                                    after its file went up)
    <color>_tripdata_manifests/<YYYY-MM>.json                       which load of a month is the
                                                                    current one (gcs.manifest)
    <color>/<YYYY>/<MM>/<DD>/daily-trips.parquet                    the trips picked up on a day
    misc/taxi_zone_lookup.parquet                                   the zone lookup (for BigQuery)
"""

from __future__ import annotations

import datetime as dt
import re
import secrets

from taxi_flows.core.schema import trip_schema

ZONES_OBJECT = "misc/taxi_zone_lookup.parquet"


def monthly_object(color: str, month: dt.date) -> str:
    return f"{color}/{color}_tripdata_{month:%Y-%m}.parquet"


def dataset_prefix(color: str) -> str:
    return f"{color}_tripdata/"


def partition_prefix(color: str, day: dt.date) -> str:
    return f"{dataset_prefix(color)}{trip_schema(color).pickup_date}={day.isoformat()}/"


_FILE = re.compile(r"^(?P<month>\d{4}-\d{2})(?:_(?P<load>[0-9A-Za-z-]+)(?:\.(?P<part>[1-9]\d*))?)?\.parquet$")


def new_load_id() -> str:
    """A load's id: its start time (so ids sort by age) and a random suffix."""
    return f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(3)}"


def partition_file_name(month: dt.date, load_id: str) -> str:
    """The name of a source month's file inside each date partition, for one load: a load never
    overwrites another's file, and never touches another month's."""
    return f"{month:%Y-%m}_{load_id}.parquet"


def later_file_name(name: str, part: int) -> str:
    """The name of a load's part-th further file of a date (part >= 1): the date's rows that came
    after its first file was uploaded (gcs.parquet.PartitionedWriter)."""
    return f"{name.removesuffix('.parquet')}.{part}.parquet"


def file_month_and_load(name: str) -> tuple[str, str | None] | None:
    """('YYYY-MM', load id) of a dataset file's object name; load id None for a file written before
    loads had ids (YYYY-MM.parquet); None for a name that is not a month's file."""
    match = _FILE.match(name.rsplit("/", 1)[-1])
    return (match["month"], match["load"]) if match else None


def manifests_prefix(color: str) -> str:
    """Beside the dataset, not in it: a Hive reader of the dataset never meets the manifests."""
    return f"{color}_tripdata_manifests/"


def manifest_object(color: str, month: dt.date | str) -> str:
    return f"{manifests_prefix(color)}{month if isinstance(month, str) else f'{month:%Y-%m}'}.json"


def daily_object(color: str, day: dt.date) -> str:
    return f"{color}/{day:%Y}/{day:%m}/{day:%d}/daily-trips.parquet"


def uri(bucket: str, name: str) -> str:
    return f"gs://{bucket}/{name}"
