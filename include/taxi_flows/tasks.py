"""What the DAGs' tasks do, with the Airflow glue (hooks, context, failure types) in one place.

The DAG files import this module at parse time, so it imports nothing heavy at the top:
pyarrow, psycopg and the providers are imported inside the functions, on the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from taxi_flows import assets, config, gcs, source

log = logging.getLogger(__name__)

BASE_URL_TEMPLATE = "{{ var.value.get('" + source.BASE_URL_VARIABLE + "', '" + source.DEFAULT_BASE_URL + "') }}"
BUCKET_TEMPLATE = "{{ var.value." + gcs.BUCKET_VARIABLE + " }}"


def month_of(logical_date: dt.datetime | None) -> dt.date:
    """The month a run handles: the month of its logical date (YYYY-MM-01 -> YYYY-MM).

    For scheduled runs and backfills of the monthly data-interval timetable the logical date is
    the start of the month's interval; a manual run or `airflow dags test DAG 2021-01-01` names
    the month by its logical date directly.
    """
    if logical_date is None:
        raise _fail("this run has no logical date: trigger it with one (YYYY-MM-01 loads month YYYY-MM)")
    return source.month_start(logical_date)


def day_of(logical_date: dt.datetime | None) -> dt.date:
    """The day a daily run handles: the (UTC) date of its logical date."""
    if logical_date is None:
        raise _fail("this run has no logical date: trigger it with one (YYYY-MM-DD is the pickup day)")
    return logical_date.date()


def skip_unless_selected(color: str, colors: list[str]) -> None:
    """A colour the run's params do not ask for is skipped (and emits no Asset event)."""
    if color not in check_colors(colors):
        from taxi_flows.compat import AirflowSkipException

        raise AirflowSkipException(f"{color} is not in params.colors {colors}")


def _fail(message: str) -> Exception:
    from taxi_flows.compat import AirflowFailException

    return AirflowFailException(message)


@contextmanager
def fail_fast_on_bad_input() -> Iterator[None]:
    """Bad input (missing file, HTML page, truncated gzip, changed header, wrong types, failed
    checks) fails the task without retries: retrying cannot fix the source. Other errors (network,
    database) propagate as they are, and the task's retries take them."""
    from taxi_flows.download import SourceError
    from taxi_flows.quality import DataQualityError

    try:
        yield
    except (SourceError, DataQualityError) as e:
        log.error("%s", e)
        raise _fail(str(e)) from e


# libpq parameters a connection's extra may carry (as the postgres provider passes them on).
_LIBPQ_EXTRAS = (
    "sslmode", "sslcert", "sslkey", "sslrootcert", "sslcrl", "connect_timeout", "application_name", "options",
    "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "target_session_attrs",
    "client_encoding",
)  # fmt: skip


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
        **{k: extra[k] for k in _LIBPQ_EXTRAS if k in extra},
    }
    return {k: v for k, v in params.items() if v not in (None, "")}


@contextmanager
def postgres_connection(conn_id: str = config.POSTGRES_CONN_ID):
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


def check_colors(colors: list[str]) -> list[str]:
    from taxi_flows.schema import COLORS

    unknown = sorted(set(colors) - set(COLORS))
    if unknown or not colors:
        raise _fail(f"params.colors must be a non-empty subset of {list(COLORS)}, got {colors}")
    return sorted(set(colors), key=COLORS.index)


def load_trips_to_postgres(color: str, base_url: str, logical_date: dt.datetime | None) -> dict:
    from taxi_flows import pipeline

    month = month_of(logical_date)
    with fail_fast_on_bad_input(), postgres_connection() as conn:
        return pipeline.web_to_postgres(conn, base_url, color, month, config.POSTGRES_SCHEMA)


def load_zones_to_postgres(base_url: str) -> int:
    from taxi_flows import pipeline

    with fail_fast_on_bad_input(), postgres_connection() as conn:
        return pipeline.web_to_postgres_zones(conn, base_url, config.POSTGRES_SCHEMA)


def month_to_gcs(color: str, bucket: str, base_url: str, logical_date: dt.datetime | None, outlet_events) -> dict:
    """web -> GCS for one colour and month; the Asset events carry what was written."""
    from taxi_flows import pipeline

    month = month_of(logical_date)
    with fail_fast_on_bad_input():
        summary = pipeline.web_to_gcs(gcs.client(), bucket, base_url, color, month)
    event = {"color": color, "month": f"{month:%Y-%m}", "rows": summary["rows_written"]}
    outlet_events[assets.monthly_parquet(color)].extra = {**event, "uri": summary["monthly_uri"]}
    outlet_events[assets.pickup_date_dataset(color)].extra = {
        **event,
        "uri": summary["dataset_uri"],
        "partitions": summary["partitions"],
    }
    return summary


def daily_trips_to_gcs(color: str, bucket: str, logical_date: dt.datetime | None, outlet_events) -> dict:
    from taxi_flows import pipeline

    day = day_of(logical_date)
    with fail_fast_on_bad_input():
        summary = pipeline.daily_trips_to_gcs(gcs.client(), bucket, color, day)
    outlet_events[assets.daily_trips(color)].extra = {
        "color": color, "day": summary["day"], "uri": summary["uri"], "rows": summary["rows"],
    }  # fmt: skip
    return summary
