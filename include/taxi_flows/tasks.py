"""What the DAGs' tasks do, with the Airflow glue (hooks, context, failure types) in one place.

The DAG files import this module at parse time, so it imports nothing heavy at the top:
pyarrow, psycopg and the providers are imported inside the functions, on the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from taxi_flows import config, source

log = logging.getLogger(__name__)

BASE_URL_TEMPLATE = "{{ var.value.get('" + source.BASE_URL_VARIABLE + "', '" + source.DEFAULT_BASE_URL + "') }}"


def month_of(logical_date: dt.datetime | None) -> dt.date:
    """The month a run handles: the month of its logical date (YYYY-MM-01 -> YYYY-MM).

    For scheduled runs and backfills of the monthly data-interval timetable the logical date is
    the start of the month's interval; a manual run or `airflow dags test DAG 2021-01-01` names
    the month by its logical date directly.
    """
    if logical_date is None:
        raise _fail("this run has no logical date: trigger it with one (YYYY-MM-01 loads month YYYY-MM)")
    return source.month_start(logical_date)


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


@contextmanager
def postgres_connection(conn_id: str = config.POSTGRES_CONN_ID):
    """A psycopg connection from the Airflow connection, in autocommit mode (the loaders open
    their own transactions), closed afterwards."""
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    conn = PostgresHook(postgres_conn_id=conn_id).get_conn()
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
