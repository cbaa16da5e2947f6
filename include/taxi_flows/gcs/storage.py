"""The few GCS operations the workflows need, on the client of the google provider's GCSHook.

The client comes from the connection ``google_cloud_default``, so the same code talks to real GCS
or to an emulator: STORAGE_EMULATOR_HOST and an anonymous connection are configuration, not code.
Every request has an explicit timeout and a bounded retry, so a service that is down fails the
attempt in about a minute, not after the client's default two minutes per call.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING

from taxi_flows.gcs.layout import uri
from taxi_flows.settings import GCP_CONN_ID

if TYPE_CHECKING:
    from google.cloud import storage

TIMEOUT = 60  # seconds per request
RETRY_SECONDS = 60  # total, per call, for the retryable errors (connection, 429, 5xx)
PARQUET = "application/vnd.apache.parquet"
# A file larger than this is uploaded in pieces of this size (a resumable upload) rather than read into
# memory whole: the client's default piece is 100 MB, and upload_many runs several at once. Smaller
# pieces cost more than they save: the GCS emulator rewrites the object at each (8 MB: 3x slower).
CHUNK_BYTES = 32 * 1024 * 1024


def client(conn_id: str = GCP_CONN_ID) -> storage.Client:
    from airflow.providers.google.cloud.hooks.gcs import GCSHook

    return GCSHook(gcp_conn_id=conn_id).get_conn()


def _retry():
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(RETRY_SECONDS)


def upload(gcs: storage.Client, bucket: str, name: str, path: Path) -> str:
    """Upload a local file as one object (GCS replaces an object atomically)."""
    blob = gcs.bucket(bucket).blob(name, chunk_size=CHUNK_BYTES)
    blob.upload_from_filename(str(path), content_type=PARQUET, timeout=TIMEOUT, retry=_retry())
    return uri(bucket, name)


def upload_range(gcs: storage.Client, bucket: str, name: str, path: Path, offset: int, length: int) -> None:
    """Upload bytes [offset, offset + length) of a local file as one object, in one request."""
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise RuntimeError(f"{path} holds {offset + len(data):,} bytes, not the {offset + length:,} to upload")
    blob = gcs.bucket(bucket).blob(name)
    blob.upload_from_string(data, content_type="application/octet-stream", timeout=TIMEOUT, retry=_retry())


def compose(gcs: storage.Client, bucket: str, name: str, sources: list[str]) -> None:
    """The object `name` as the concatenation of `sources` (at most 32), written atomically by GCS."""
    b = gcs.bucket(bucket)
    destination = b.blob(name)
    destination.content_type = PARQUET
    destination.compose([b.blob(s) for s in sources], timeout=TIMEOUT, retry=_retry())


def upload_many(gcs: storage.Client, bucket: str, files: dict[str, Path], workers: int = 4) -> None:
    """Upload {object name: local file}, a few at a time (each object is still replaced atomically)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="taxi-flows-upload") as pool:
        for future in [pool.submit(upload, gcs, bucket, name, path) for name, path in sorted(files.items())]:
            future.result()


def read_versioned(gcs: storage.Client, bucket: str, name: str) -> tuple[bytes | None, int]:
    """An object's content and generation; (None, 0) when it does not exist."""
    from google.api_core.exceptions import NotFound

    blob = gcs.bucket(bucket).blob(name)
    try:
        data = blob.download_as_bytes(timeout=TIMEOUT, retry=_retry())
    except NotFound:
        return None, 0
    return data, blob.generation or 0


def write_if_generation(gcs: storage.Client, bucket: str, name: str, data: bytes, generation: int) -> int:
    """Write an object only if its generation is still `generation` (0: only if it does not exist):
    a compare-and-swap; the new generation. google.api_core.exceptions.PreconditionFailed when
    another writer came first."""
    blob = gcs.bucket(bucket).blob(name)
    blob.upload_from_string(
        data, content_type="application/json", if_generation_match=generation, timeout=TIMEOUT, retry=_retry()
    )
    return blob.generation


def delete_if_generation(gcs: storage.Client, bucket: str, name: str, generation: int) -> None:
    """Delete an object only if it is still that generation (NotFound, PreconditionFailed otherwise).
    The precondition makes a retry safe: the bounded retry of every other call."""
    gcs.bucket(bucket).blob(name).delete(if_generation_match=generation, timeout=TIMEOUT, retry=_retry())


def list_names(gcs: storage.Client, bucket: str, prefix: str) -> list[str]:
    return [b.name for b in gcs.list_blobs(bucket, prefix=prefix, timeout=TIMEOUT, retry=_retry())]


def download(gcs: storage.Client, bucket: str, name: str) -> bytes:
    return gcs.bucket(bucket).blob(name).download_as_bytes(timeout=TIMEOUT, retry=_retry())


def delete(gcs: storage.Client, bucket: str, names: list[str]) -> None:
    """Delete objects; one that is already gone is no error (a retry, or another load, deleted it)."""
    from google.api_core.exceptions import NotFound

    for name in names:
        with contextlib.suppress(NotFound):
            gcs.bucket(bucket).blob(name).delete(timeout=TIMEOUT, retry=_retry())
