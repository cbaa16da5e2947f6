"""What the DAGs' tasks do, with the Airflow glue (hooks, context, failure types) in one place.

The DAG files import this module at parse time, so it imports nothing heavy at the top:
pyarrow, psycopg and the providers are imported inside the functions, on the worker.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from taxi_flows import assets, bigquery, config, gcs, source

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


DATASET_TEMPLATE = "{{ var.value." + bigquery.DATASET_VARIABLE + " }}"


def bigquery_plan(
    bucket: str,
    dataset: str,
    colors: list[str],
    logical_date: dt.datetime | None,
    triggering_asset_events,
    inlet_events=None,
    since: dt.datetime | None = None,
    run_type: str | None = None,
) -> list[dict]:
    """The months a taxi_gcs_to_bigquery run loads, one dict of arguments per month for the
    mapped task group.

    - A run triggered by Asset events loads the months of its triggering events, and also of every
      event of the monthly Parquet assets (its inlets) since the last successful run started
      (`since`): an event that arrives while the scheduler is turning earlier events into a run
      can miss the queue, and is caught here instead. Before any successful run, the events from
      the earliest triggering one on: older events may name files long gone, and a run that loads
      them could never succeed. A month seen twice is loaded once; a month
      reloaded again is harmless (the load replaces it).
    - A time-scheduled, manual or backfill run loads the month of its logical date for the colours
      of params.colors. A time-scheduled run of a month after the last one the source publishes is
      skipped (on Airflow 2 the DAG has no end_date: taxi_flows.compat.event_triggered_end_date).
    """
    from taxi_flows import schema

    wanted: dict[tuple[str, str], dict] = {}

    def add(extra) -> None:
        extra = dict(extra or {})
        if extra.get("color") in schema.COLORS and extra.get("month"):
            wanted[(extra["color"], extra["month"])] = extra

    since = since if since else None  # the context hands a lazy proxy, which may wrap None
    triggered = [event for events in (triggering_asset_events or {}).values() for event in events]
    for event in triggered:
        add(event.extra)
    if triggered and inlet_events is not None:
        if since is None:  # no successful run yet: the events that came with the triggering ones, or after
            since = min(event.timestamp for event in triggered) - dt.timedelta(microseconds=1)
        for color in schema.COLORS:
            for event in inlet_events[assets.monthly_parquet(color)][-200:]:
                if since is None or event.timestamp > since:
                    add(event.extra)
    if wanted:
        log.info("Asset events for %s", ", ".join(f"{c} {m}" for c, m in sorted(wanted)))
    else:
        month = month_of(logical_date)
        if run_type == "scheduled" and month > config.LAST_SOURCE_MONTH:
            from taxi_flows.compat import AirflowSkipException

            raise AirflowSkipException(
                f"nothing to load: a scheduled run for {month:%Y-%m}, after {config.LAST_SOURCE_MONTH:%Y-%m}, the "
                "last month the source publishes (months arrive through taxi_web_to_gcs's Asset events)"
            )
        wanted = {(color, f"{month:%Y-%m}"): {} for color in check_colors(colors)}
    project = bigquery.client(config.GCP_CONN_ID).project
    plan = []
    for (color, m), extra in sorted(wanted.items()):
        month = source.month_start(m)
        plan.append(
            {
                "color": color,
                "month": m,
                "bucket": bucket,
                "source_objects": [gcs.monthly_object(color, month)],
                "staging": f"{project}.{dataset}.{bigquery.staging_table(color, month)}",
                "final": f"{project}.{dataset}.{bigquery.trips_table(color)}",
                "schema_fields": schema.trip_schema(color).bigquery_schema(),
                "merge": {
                    "query": {
                        "query": bigquery.replace_month_sql(project, dataset, color, month),
                        "useLegacySql": False,
                    }
                },
                "expected_rows": extra.get("rows"),
            }
        )
    log.info("loading %s from gs://%s into %s.%s", [f"{p['color']} {p['month']}" for p in plan], bucket, project,
             dataset)  # fmt: skip
    return plan


def check_staged(staging: str, expected_rows: int | None) -> int:
    """The staging table holds the month's Parquet file: rows > 0, and the count the Asset event
    announced when there was one. Otherwise nothing is merged."""
    rows = bigquery.table_rows(bigquery.client(config.GCP_CONN_ID), staging)
    if rows == 0:
        raise _fail(f"{staging} is empty: the month's Parquet file has no rows")
    if expected_rows is not None and rows != expected_rows:
        raise _fail(f"{staging} holds {rows:,} rows but the Parquet file had {expected_rows:,} (Asset event)")
    log.info("%s: %s rows staged", staging, f"{rows:,}")
    return rows


def reconcile_month(final: str, staging: str, month: str) -> int:
    """The final table's rows of the month equal the staged Parquet rows, or the run fails."""
    bq = bigquery.client(config.GCP_CONN_ID)
    staged = bigquery.table_rows(bq, staging)
    loaded = bigquery.month_rows(bq, final, source.month_start(month))
    if loaded != staged:
        raise _fail(
            f"{final}: {loaded:,} rows of source_month {month} after the MERGE, but {staged:,} in the Parquet file"
        )
    log.info("%s: source_month %s has %s rows, as the Parquet file", final, month, f"{loaded:,}")
    return loaded


def zones_to_gcs(bucket: str, base_url: str) -> str:
    """The zone lookup from the web to gs://<bucket>/misc/taxi_zone_lookup.parquet (for BigQuery)."""
    import tempfile
    from pathlib import Path

    import pyarrow.parquet as pq

    from taxi_flows import pipeline

    with fail_fast_on_bad_input(), tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp:
        table = pipeline.web_zones(base_url)
        path = Path(tmp) / "zones.parquet"
        pq.write_table(table, path)
        return gcs.upload(gcs.client(), bucket, gcs.ZONES_OBJECT, path)


def check(service: str, *args: str) -> str:
    """Run one connection check; a failure fails the task at once, with the advice first."""
    from taxi_flows import checks

    run = {"postgres": checks.check_postgres, "bigquery": checks.check_bigquery, "gcs": checks.check_gcs}[service]
    try:
        return run(*args)
    except checks.ConnectionCheckError as e:
        log.error("%s", e)
        raise _fail(str(e)) from e
