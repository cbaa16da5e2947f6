"""The advice of the connection checks, on constructed errors of each kind."""

import psycopg
import pytest
import requests
from google.api_core import exceptions as gexc
from google.api_core.exceptions import RetryError
from google.auth.exceptions import DefaultCredentialsError, RefreshError

from taxi_flows.orchestration.checks import advice


def chained(outer: BaseException, cause: BaseException) -> BaseException:
    outer.__cause__ = cause
    return outer


@pytest.mark.parametrize(
    ("service", "error", "expected"),
    [
        (
            "postgres",
            psycopg.OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused'),
            "Nothing listens at 127.0.0.1:5432/taxi: is PostgreSQL running, and is the port right?",
        ),
        (
            "postgres",
            psycopg.OperationalError('FATAL:  password authentication failed for user "etl"'),
            "The login or password of the connection taxi_postgres is wrong",
        ),
        (
            "postgres",
            psycopg.OperationalError('FATAL:  database "taxi" does not exist'),
            "The database named in the connection taxi_postgres (its schema field) does not exist",
        ),
        ("postgres", psycopg.OperationalError("timeout expired"), "did not answer in time"),
        (
            "bigquery",
            gexc.Forbidden(
                "Access Denied: Project p: User does not have bigquery.jobs.create permission in project p."
            ),
            "grant roles/bigquery.jobUser on the project",
        ),
        (
            "gcs",
            gexc.Forbidden("sa@p.iam.gserviceaccount.com does not have storage.objects.list access to the bucket."),
            "grant roles/storage.objectAdmin on the bucket",
        ),
        (
            "bigquery",
            gexc.Forbidden("BigQuery API has not been used in project 123 before or it is disabled."),
            "`gcloud services enable bigquery.googleapis.com`",
        ),
        ("gcs", gexc.NotFound("The specified bucket does not exist."), "The bucket (Variable taxi_gcs_bucket)"),
        ("bigquery", gexc.NotFound("Not found: Dataset p:ny_taxi"), "The dataset (Variable taxi_bq_dataset)"),
        (
            "bigquery",
            DefaultCredentialsError("File /opt/airflow/keys/sa.json was not found."),
            "The service account key file does not exist at that path",
        ),
        (
            "gcs",
            DefaultCredentialsError("Your default credentials were not found."),
            "No Google credentials",
        ),
        ("bigquery", RefreshError("invalid_grant: Invalid JWT Signature."), "The credentials were refused"),
    ],
)
def test_advice(service, error, expected):
    target = "127.0.0.1:5432/taxi" if service == "postgres" else ""
    assert expected in advice(service, error, target)


def test_an_emulator_that_is_down(monkeypatch):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:28092")
    error = chained(RetryError("Timeout of 10.0s exceeded", cause=None), requests.ConnectionError("Connection refused"))
    assert advice("bigquery", error) == (
        "Nothing answers at http://127.0.0.1:28092 (BIGQUERY_EMULATOR_HOST): start the local stack "
        "(`make stack-up`) or fix the port."
    )


def test_google_unreachable_without_an_emulator(monkeypatch):
    monkeypatch.delenv("STORAGE_EMULATOR_HOST", raising=False)
    assert "network route to Google" in advice("gcs", gexc.ServiceUnavailable("503 Service Unavailable"))


def test_owner_is_not_the_advice():
    text = advice("bigquery", gexc.Forbidden("Permission bigquery.tables.updateData denied"))
    assert "Owner works too, as the course said, but grants far more" in text


def test_unexpected():
    assert "unexpected error" in advice("gcs", ValueError("?"))


@pytest.mark.parametrize("port", [54401, 44403, 40404])
def test_a_port_that_contains_a_status_code_is_not_that_status(monkeypatch, port):
    """The port of an emulator that is down once read as '401': 'the credentials were refused'."""
    url = f"http://127.0.0.1:{port}"
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", url)
    cause = requests.ConnectionError(
        f"HTTPConnectionPool(host='127.0.0.1', port={port}): Max retries exceeded with url: /bigquery/v2/jobs"
        f" (Caused by NewConnectionError(\"HTTPConnection(host='127.0.0.1', port={port}): Failed to establish a new "
        'connection: [Errno 111] Connection refused"))'
    )
    error = chained(RetryError(f"Timeout of 10.0s exceeded, last exception: {cause}", cause=None), cause)
    assert advice("bigquery", error).startswith(f"Nothing answers at {url} (BIGQUERY_EMULATOR_HOST)")
