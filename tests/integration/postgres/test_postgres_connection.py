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


def test_a_task_s_connection_names_its_airflow_run(stack, monkeypatch):
    """pg_stat_activity (and a load waiting for a month's lock) then says which run holds a backend."""
    run = {"DAG_ID": "taxi_web_to_postgres", "DAG_RUN_ID": "manual__2021-01", "TASK_ID": "load_trips"}
    for key, value in run.items():
        monkeypatch.setenv(f"AIRFLOW_CTX_{key}", value)
    with postgres_connection() as conn:
        name = conn.execute("SHOW application_name").fetchone()[0]
    assert name == "taxi_web_to_postgres manual__2021-01 load_trips"
    monkeypatch.delenv("AIRFLOW_CTX_DAG_ID")
    with postgres_connection() as conn:
        assert "taxi_web_to_postgres" not in conn.execute("SHOW application_name").fetchone()[0]


def test_the_local_server_asks_for_its_password_and_keeps_its_socket_to_itself(stack, monkeypatch):
    import psycopg

    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", "/dev/null")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(stack.s.pg_uri("taxi", password=False), connect_timeout=5)
    wrong = stack.s.pg_uri("taxi").replace(f":{stack.s.pg_password}@", ":not-the-password@")
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(wrong, connect_timeout=5)
    with psycopg.connect(stack.s.pg_uri("taxi"), connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert (stack.s.pg_socket_dir / f".s.PGSQL.{stack.s.pg_port}").stat().st_mode & 0o777 == 0o700
    assert stack.s.pg_password_file.stat().st_mode & 0o777 == 0o600
    assert (stack.s.state_dir / "env.sh").stat().st_mode & 0o777 == 0o600  # PGPASSWORD, the broker's URL
