"""The few GCS operations the workflows need, on the client of the google provider's GCSHook.

The client comes from the connection ``google_cloud_default``, so the same code talks to real GCS
or to an emulator: STORAGE_EMULATOR_HOST and an anonymous connection are configuration, not code.
Every request has an explicit timeout and a bounded retry, so a service that is down fails the
attempt in about a minute, not after the client's default two minutes per call.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from taxi_flows.gcs.layout import uri
from taxi_flows.settings import GCP_CONN_ID

if TYPE_CHECKING:
    from google.cloud import storage

log = logging.getLogger(__name__)

TIMEOUT = 60  # seconds per request
RETRY_SECONDS = 60  # total, per call, for the retryable errors (connection, 429, 5xx)
PARQUET = "application/vnd.apache.parquet"


def client(conn_id: str = GCP_CONN_ID) -> storage.Client:
    from airflow.providers.google.cloud.hooks.gcs import GCSHook

    return GCSHook(gcp_conn_id=conn_id).get_conn()


def _retry():
    from google.cloud.storage.retry import DEFAULT_RETRY

    return DEFAULT_RETRY.with_timeout(RETRY_SECONDS)


def upload(gcs: storage.Client, bucket: str, name: str, path: Path, if_generation_match: int | None = None) -> str:
    """Upload a local file as one object, in one request streamed from the file: memory holds a
    buffer, never the file, and GCS creates the object when the request completes, so a reader sees
    the old object or the new one, never a part. if_generation_match: only if the object is still that
    generation (0: only if there is none); PreconditionFailed otherwise, which also makes a retry safe.

    One request, not the client's resumable upload in pieces: the GCS emulator rewrites an object at
    every piece, and the client's own single-request upload reads the whole file into memory.
    """
    from urllib.parse import quote

    from google.api_core.exceptions import PreconditionFailed, from_http_response

    connection = gcs._connection  # the client's own endpoint (the emulator's, under STORAGE_EMULATOR_HOST)
    base = getattr(connection, "get_api_base_url_for_mtls", lambda: connection.API_BASE_URL)()
    url = f"{base}/upload/storage/v1/b/{quote(bucket, safe='')}/o"
    params = {"uploadType": "media", "name": name}
    if if_generation_match is not None:
        params["ifGenerationMatch"] = str(if_generation_match)
    headers = {"Content-Type": PARQUET, "Content-Length": str(path.stat().st_size)}

    def attempt() -> None:
        if if_generation_match is not None and generation(gcs, bucket, name) != if_generation_match:
            # GCS checks the precondition itself, atomically; this also fails where an emulator ignores it on
            # uploads (fake-gcs-server before its #2308), and names the object.
            raise PreconditionFailed(f"{uri(bucket, name)} is no longer generation {if_generation_match}")
        with open(path, "rb") as body:  # from the start at each attempt
            response = gcs._http.request("POST", url, params=params, data=body, headers=headers, timeout=TIMEOUT)
        if response.status_code >= 400:
            raise from_http_response(response)

    _retry()(attempt)()
    return uri(bucket, name)


def generation(gcs: storage.Client, bucket: str, name: str) -> int:
    """An object's generation; 0 when it does not exist."""
    blob = gcs.bucket(bucket).get_blob(name, timeout=TIMEOUT, retry=_retry())
    return blob.generation if blob else 0


class Uploads:
    """Files uploaded in the background as they are handed over (submit), a few at a time, while
    the caller goes on; wait() waits for all of them and raises the first failure. Leaving the block
    with an error before commit() deletes what went up (best effort: objects of a load that never
    commits are the month's next load's to delete when this fails too)."""

    def __init__(self, gcs: storage.Client, bucket: str, workers: int = 8):
        from concurrent.futures import ThreadPoolExecutor

        self.gcs, self.bucket = gcs, bucket
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="taxi-flows-upload")
        self._futures: dict[str, object] = {}
        self._committed = False

    def submit(self, name: str, path: Path) -> None:
        if name not in self._futures:
            self._futures[name] = self._pool.submit(upload, self.gcs, self.bucket, name, path)

    @property
    def submitted(self) -> set[str]:
        return set(self._futures)

    def wait(self) -> None:
        for future in list(self._futures.values()):
            future.result()

    def commit(self) -> None:
        """What went up stays from here on, whatever happens next: the manifest about to be written names it."""
        self._committed = True

    def __enter__(self) -> Uploads:
        return self

    def __exit__(self, kind, error, tb) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        if kind is None or self._committed:
            return
        done = [name for name, f in self._futures.items() if f.done() and not f.cancelled() and f.exception() is None]
        try:
            delete(self.gcs, self.bucket, done)  # names of this load's own: nobody else writes them
        except Exception as e:  # GCS down, say: the month's next load deletes them
            sentence = (
                "left %d uploaded file(s) of this failed load in gs://%s (%s); the month's next load deletes them"
            )
            log.warning(sentence, len(done), self.bucket, e)


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


def delete(gcs: storage.Client, bucket: str, names: list[str], workers: int = 4) -> None:
    """Delete objects, a few requests at a time (a month's earlier load: 30 to 60 files); one that
    is already gone is no error (a retry, or another load, deleted it)."""
    from concurrent.futures import ThreadPoolExecutor

    from google.api_core.exceptions import NotFound

    def one(name: str) -> None:
        with contextlib.suppress(NotFound):
            gcs.bucket(bucket).blob(name).delete(timeout=TIMEOUT, retry=_retry())

    if len(names) <= 1:
        for name in names:
            one(name)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="taxi-flows-delete") as pool:
        for _ in pool.map(one, names):  # the first failure raises, the others finish
            pass
