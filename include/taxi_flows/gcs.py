"""Where the taxi data lives in the bucket, and the few GCS operations the workflows need.

The client comes from the google provider's GCSHook (connection ``google_cloud_default``), so
the same code talks to real GCS or to an emulator: STORAGE_EMULATOR_HOST and an anonymous
connection are configuration, not code. Every request has an explicit timeout and a bounded
retry, so a service that is down fails the attempt in about a minute, not after the client's
default two minutes per call.

Layout (``<p>`` is ``tpep`` for yellow, ``lpep`` for green):

    <color>/<color>_tripdata_<YYYY>-<MM>.parquet                   one file per source month
    <color>_tripdata/<p>_pickup_date=<YYYY-MM-DD>/<YYYY-MM>.parquet by pickup date, one file per
                                                                   date and source month
    <color>/<YYYY>/<MM>/<DD>/daily-trips.parquet                   the trips picked up on a day
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from taxi_flows.config import GCP_CONN_ID
from taxi_flows.schema import trip_schema

if TYPE_CHECKING:
    from google.cloud import storage

BUCKET_VARIABLE = "taxi_gcs_bucket"
TIMEOUT = 60  # seconds per request
RETRY_SECONDS = 60  # total, per call, for the retryable errors (connection, 429, 5xx)


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


def client(conn_id: str = GCP_CONN_ID) -> storage.Client:
    from airflow.providers.google.cloud.hooks.gcs import GCSHook

    return GCSHook(gcp_conn_id=conn_id).get_conn()


def _retry():
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(RETRY_SECONDS)


def upload(gcs: storage.Client, bucket: str, name: str, path: Path) -> str:
    """Upload a local file as one object (GCS replaces an object atomically)."""
    blob = gcs.bucket(bucket).blob(name)
    blob.upload_from_filename(str(path), content_type="application/vnd.apache.parquet", timeout=TIMEOUT,
                              retry=_retry())  # fmt: skip
    return uri(bucket, name)


def upload_many(gcs: storage.Client, bucket: str, files: dict[str, Path], workers: int = 8) -> None:
    """Upload {object name: local file}, a few at a time (each object is still replaced atomically)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="taxi-flows-upload") as pool:
        for future in [pool.submit(upload, gcs, bucket, name, path) for name, path in sorted(files.items())]:
            future.result()


def list_names(gcs: storage.Client, bucket: str, prefix: str) -> list[str]:
    return [b.name for b in gcs.list_blobs(bucket, prefix=prefix, timeout=TIMEOUT, retry=_retry())]


def download(gcs: storage.Client, bucket: str, name: str) -> bytes:
    return gcs.bucket(bucket).blob(name).download_as_bytes(timeout=TIMEOUT, retry=_retry())


def delete(gcs: storage.Client, bucket: str, names: list[str]) -> None:
    for name in names:
        gcs.bucket(bucket).blob(name).delete(timeout=TIMEOUT, retry=_retry())
