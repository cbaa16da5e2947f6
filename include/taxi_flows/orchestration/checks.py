"""The connection checks (the course's `test_config`): SELECT 1 on PostgreSQL and BigQuery, a
bucket access check on GCS, each with a short timeout; and, when one fails, what to fix.

The course's users met these failures as stack traces: a port already taken, a key file mounted
at the wrong path, `SELECT 1` failing until the service account had the right role (the course
said: make it Owner). `advice()` turns each kind of error into a sentence that says what to do,
with the least privilege that works.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from taxi_flows import settings

log = logging.getLogger(__name__)

TIMEOUT = 10  # seconds per request of a check
ROLES = {
    "bigquery": "roles/bigquery.jobUser on the project (to run jobs) and roles/bigquery.dataEditor on the dataset",
    "gcs": "roles/storage.objectAdmin on the bucket (read, write, list and delete objects)",
}
API = {"bigquery": "bigquery.googleapis.com", "gcs": "storage.googleapis.com"}
EMULATOR_VARIABLE = {"bigquery": "BIGQUERY_EMULATOR_HOST", "gcs": "STORAGE_EMULATOR_HOST"}
NAMES = {"postgres": "PostgreSQL", "bigquery": "BigQuery", "gcs": "GCS"}


class ConnectionCheckError(Exception):
    """A check failed; the message says what to fix, the cause keeps the original error."""


def _chain(error: BaseException) -> str:
    """The text of an error and of every error it was raised from."""
    parts, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        parts.append(f"{type(error).__name__}: {error}")
        error = error.__cause__ or error.__context__
    return " | ".join(parts)


def _status(text: str, code: int) -> bool:
    """The HTTP status code appears in the text as a number of its own (not inside a port, 127.0.0.1:54401)."""
    return re.search(rf"(?<![\d.:]){code}(?!\d)", text) is not None


def advice(service: str, error: BaseException, target: str = "") -> str:
    """What to fix, in one sentence, for an error of the check of service (postgres, bigquery, gcs)."""
    text = _chain(error)
    lower = text.lower()
    if service == "postgres":
        return _postgres_advice(lower, target)
    where = f" ({target})" if target else ""
    if "file" in lower and "was not found" in lower:
        return (
            f"The service account key file does not exist at that path: fix key_path in the connection "
            f"{settings.GCP_CONN_ID} (in Docker: is the file mounted at that path inside the container?)."
        )
    if "could not automatically determine credentials" in lower or "default credentials were not found" in lower:
        return (
            f"No Google credentials: give the connection {settings.GCP_CONN_ID} a key (key_path or "
            "keyfile_dict), or run `gcloud auth application-default login`, or run where a service "
            "account is attached."
        )
    if "invalid_grant" in lower or "unauthenticated" in lower or _status(lower, 401) or "refresherror" in lower:
        return (
            "The credentials were refused (expired, revoked or deleted key): create a new key for the service account."
        )
    if "has not been used in project" in lower or "is disabled" in lower or "service_disabled" in lower:
        return f"The {NAMES[service]} API is not enabled in the project: `gcloud services enable {API[service]}`."
    if "permission" in lower or "access denied" in lower or _status(lower, 403) or "forbidden" in lower:
        return (
            f"The service account lacks a role for {NAMES[service]}{where}: grant {ROLES[service]}. "
            "(Owner works too, as the course said, but grants far more than the bundle needs.)"
        )
    if _status(lower, 404) or "notfound" in lower or "not found" in lower:
        what = "bucket (Variable taxi_gcs_bucket)" if service == "gcs" else "dataset (Variable taxi_bq_dataset)"
        return (
            f"The {what}{where} does not exist in the connection's project, or lives in another location: "
            "create it (`make stack-up` does locally) or fix the Variable."
        )
    if any(
        s in lower
        for s in (
            "connection refused",
            "max retries exceeded",
            "failed to establish",
            "timed out",
            "timeout",
            "connectionerror",
            "serviceunavailable",
            "name or service not known",
        )
    ):
        emulator = os.getenv(EMULATOR_VARIABLE[service])
        if emulator:
            return (
                f"Nothing answers at {emulator} ({EMULATOR_VARIABLE[service]}): start the local stack "
                "(`make stack-up`) or fix the port."
            )
        return f"{NAMES[service]} did not answer in time: check the network route to Google (proxy, firewall)."
    return f"{NAMES[service]} check failed with an unexpected error; see the error below."


def _postgres_advice(lower: str, target: str) -> str:
    where = f" {target}" if target else ""
    if "password authentication failed" in lower or "no password supplied" in lower:
        return f"The login or password of the connection {settings.POSTGRES_CONN_ID} is wrong{where}."
    if "does not exist" in lower and "database" in lower:
        return (
            f"The database named in the connection {settings.POSTGRES_CONN_ID} (its schema field) does not exist"
            f"{where}: create it or fix the connection."
        )
    if "could not translate host name" in lower or "name or service not known" in lower:
        return f"The host of the connection {settings.POSTGRES_CONN_ID} does not resolve{where}."
    if "connection refused" in lower:
        return (
            f"Nothing listens at{where}: is PostgreSQL running, and is the port right? (Port 5432 taken by "
            "another server? The local stack uses TAXI_PG_PORT, default 25432: `make stack-up`.)"
        )
    if "timeout" in lower or "timed out" in lower:
        return (
            f"PostgreSQL did not answer in time{where}: a firewall, a wrong host, or (Cloud SQL) an "
            "unauthorised network; use the Cloud SQL Auth Proxy or add the network."
        )
    if "pg_hba.conf" in lower or "no encryption" in lower or "ssl" in lower:
        return f"The server refuses this client{where} (pg_hba.conf or SSL): set sslmode in the connection's extra."
    return "PostgreSQL check failed with an unexpected error; see the error below."


@contextmanager
def _checked(service: str, target: str) -> Iterator[None]:
    """Turn any failure of a check into ConnectionCheckError(advice), keeping the cause."""
    try:
        yield
    except ConnectionCheckError:
        raise
    except Exception as error:
        raise ConnectionCheckError(f"{NAMES[service]}: {advice(service, error, target)} [{_chain(error)}]") from error


def check_postgres(conn_id: str = settings.POSTGRES_CONN_ID) -> str:
    """SELECT 1 on the target database, with a connect timeout of TIMEOUT seconds."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    from taxi_flows.postgres.connection import postgres_connection

    target = ""
    with _checked("postgres", target):
        c = PostgresHook.get_connection(conn_id)
        target = f"{c.host}:{c.port}/{c.schema}"
    os.environ.setdefault("PGCONNECT_TIMEOUT", str(TIMEOUT))  # libpq's, for whichever driver the hook uses
    with _checked("postgres", target), postgres_connection(conn_id) as conn:
        one = conn.execute("SELECT 1").fetchone()[0]
        version = conn.execute("SHOW server_version").fetchone()[0]
    message = f"PostgreSQL {target}: SELECT 1 returned {one} (server {version})"
    log.info(message)
    return message


def check_bigquery(conn_id: str = settings.GCP_CONN_ID) -> str:
    """SELECT 1 on BigQuery through the hook's client (the path that honours the emulator)."""
    from google.api_core.retry import Retry

    from taxi_flows.bigquery import queries

    with _checked("bigquery", ""):
        bq = queries.client(conn_id)
        target = f"project {bq.project}, location {settings.BQ_LOCATION}"
    with _checked("bigquery", target):
        retry = Retry(timeout=TIMEOUT)
        job = bq.query("SELECT 1 AS one", timeout=TIMEOUT, retry=retry, job_retry=None)
        one = next(iter(job.result(timeout=TIMEOUT, retry=retry))).one
    message = f"BigQuery {target}: SELECT 1 returned {one}"
    log.info(message)
    return message


def check_gcs(bucket: str, conn_id: str = settings.GCP_CONN_ID) -> str:
    """The bucket exists and its objects can be listed (storage.objects.list: no bucket-level
    permission is needed beyond what the workflows use)."""
    from google.api_core.retry import Retry

    from taxi_flows.gcs import storage

    target = f"gs://{bucket}"
    with _checked("gcs", target):
        client = storage.client(conn_id)
        listed = list(client.list_blobs(bucket, max_results=1, timeout=TIMEOUT, retry=Retry(timeout=TIMEOUT)))
    message = f"GCS {target}: the bucket exists and its objects can be listed ({len(listed)} seen of at most 1)"
    log.info(message)
    return message
