"""A psycopg 3 connection from the Airflow connection taxi_postgres (through the postgres
provider's hook), whatever driver the installed provider hands out."""

from __future__ import annotations

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


@contextmanager
def postgres_connection(conn_id: str = POSTGRES_CONN_ID):
    """A psycopg 3 connection (the loaders use its COPY API) for the Airflow connection, in
    autocommit mode (the loaders open their own transactions), closed afterwards.

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
    try:
        yield conn
    finally:
        conn.close()
