"""A psycopg 3 connection from the Airflow connection taxi_postgres (through the postgres
provider's hook), whatever driver the installed provider hands out."""

from __future__ import annotations

import os
from contextlib import contextmanager

from taxi_flows.settings import POSTGRES_CONN_ID

# libpq parameters a connection's extra may carry (as the postgres provider passes them on).
LIBPQ_EXTRAS = (
    "sslmode",
    "sslcert",
    "sslkey",
    "sslrootcert",
    "sslcrl",
    "connect_timeout",
    "application_name",
    "options",
    "keepalives",
    "keepalives_idle",
    "keepalives_interval",
    "keepalives_count",
    "target_session_attrs",
    "client_encoding",
)


def libpq_params(connection) -> dict:
    """psycopg 3 connect() arguments from an Airflow Connection (host, port, login, password,
    schema = the database, and the libpq options of its extra)."""
    extra = connection.extra_dejson
    params = {
        "host": connection.host,
        "port": connection.port,
        "user": connection.login,
        "password": connection.password,
        "dbname": connection.schema,
        "connect_timeout": 10,
        **{k: extra[k] for k in LIBPQ_EXTRAS if k in extra},
    }
    return {k: v for k, v in params.items() if v not in (None, "")}


def airflow_run_name() -> str | None:
    """The Airflow task this process runs ("<dag_id> <run_id> <task_id>", from the AIRFLOW_CTX_*
    variables Airflow sets for a task), as the connection's application_name: pg_stat_activity,
    and a load waiting for a month's lock, then name the run that holds it. None outside a task."""
    dag_id, run_id, task_id = (os.environ.get(f"AIRFLOW_CTX_{k}") for k in ("DAG_ID", "DAG_RUN_ID", "TASK_ID"))
    if not dag_id:
        return None
    return " ".join(p for p in (dag_id, run_id, task_id) if p)[:63]  # PostgreSQL keeps 63 bytes


def open_connection(conn_id: str = POSTGRES_CONN_ID, application_name: str | None = None):
    """A psycopg 3 connection (the loaders use its COPY API) for the Airflow connection, in
    autocommit mode (the loaders open their own transactions); the caller closes it.

    The postgres provider 7.x hands out psycopg 3 when Airflow runs on SQLAlchemy 2. Older
    providers, or Airflow 3.1 on SQLAlchemy 1.4 (Cloud Composer 3's first Airflow 3 builds), hand
    out psycopg2: then a psycopg 3 connection is opened with the same connection's parameters.
    """
    import psycopg
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    hook = PostgresHook(postgres_conn_id=conn_id)
    conn = hook.get_conn()
    if not isinstance(conn, psycopg.Connection):
        conn.close()
        conn = psycopg.connect(**libpq_params(hook.get_connection(conn_id)))
    conn.autocommit = True
    name = application_name or airflow_run_name()
    if name and not conn.info.parameter_status("application_name"):  # the connection's extra may name it
        conn.execute("SELECT set_config('application_name', %s, false)", [name])
    return conn


@contextmanager
def postgres_connection(conn_id: str = POSTGRES_CONN_ID):
    """open_connection(conn_id), closed afterwards."""
    conn = open_connection(conn_id)
    try:
        yield conn
    finally:
        conn.close()
