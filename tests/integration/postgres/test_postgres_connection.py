"""The Airflow glue of the tasks: connections from the environment, as on a worker."""

import json

import pytest

from taxi_flows.postgres.connection import libpq_params, postgres_connection

pytestmark = pytest.mark.integration


def test_libpq_params_from_an_airflow_connection():
    from taxi_flows.orchestration.compat import Connection

    conn = Connection(
        conn_id="x",
        conn_type="postgres",
        host="db.example",
        port=5433,
        login="etl",
        password="s3cret",  # noqa: S106 - a test value
        schema="taxi",
        extra=json.dumps({"sslmode": "require", "application_name": "taxi-flows", "cursor": "dictcursor"}),
    )
    assert libpq_params(conn) == {
        "host": "db.example",
        "port": 5433,
        "user": "etl",
        "password": "s3cret",
        "dbname": "taxi",
        "connect_timeout": 10,
        "sslmode": "require",
        "application_name": "taxi-flows",
    }


def test_the_taxi_postgres_connection_gives_psycopg3(stack):
    import psycopg

    with postgres_connection() as conn:
        assert isinstance(conn, psycopg.Connection)
        assert conn.execute("SELECT current_database()").fetchone() == ("taxi",)


def test_a_psycopg2_hook_still_gives_psycopg3(stack, monkeypatch):
    """Older providers, or Airflow 3.1 on SQLAlchemy 1.4, hand out psycopg2 connections."""
    import psycopg
    import psycopg2
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    monkeypatch.setattr(PostgresHook, "get_conn", lambda self: psycopg2.connect(stack.s.pg_uri("taxi")))
    with postgres_connection() as conn:
        assert isinstance(conn, psycopg.Connection)
        assert conn.execute("SELECT current_database()").fetchone() == ("taxi",)
