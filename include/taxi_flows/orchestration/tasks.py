"""The entry points of the DAGs' tasks: each takes what the task template or context hands it,
opens the connection or client from Airflow's, calls the target's Airflow-free use case, and turns
bad input into a failure without retries (taxi_flows.orchestration.runs).

The DAG files import this module at parse time, so it imports nothing heavy at the top:
pyarrow, psycopg and the providers are imported inside the functions, on the worker.
"""

from __future__ import annotations

import datetime as dt
import logging

from taxi_flows.orchestration import assets
from taxi_flows.orchestration.runs import fail, fail_fast_on_bad_input, hide_secrets_of
from taxi_flows.settings import DEFAULT_TLC_BASE_URL, GCP_CONN_ID, POSTGRES_SCHEMA

log = logging.getLogger(__name__)


# taxi_web_to_postgres
def load_trips_to_postgres(
    color: str,
    base_url: str,
    month: dt.date,
    outlet_events=None,
    run=None,
    tlc_base_url: str = DEFAULT_TLC_BASE_URL,
    source: str | None = None,
) -> dict:
    """web -> PostgreSQL for one colour and month (runs.run_month); the load's summary is recorded
    for the coverage page (coverage.store) and carried by the Asset event."""
    from taxi_flows.coverage import store
    from taxi_flows.postgres.connection import postgres_connection
    from taxi_flows.postgres.web_to_postgres import web_to_postgres

    urls = {"tlc_base_url": hide_secrets_of(tlc_base_url), "source_name": source}
    with fail_fast_on_bad_input(), postgres_connection() as conn:
        summary = web_to_postgres(conn, hide_secrets_of(base_url), color, month, POSTGRES_SCHEMA, **urls)
        if run is not None:
            store.record_load(conn, color, month, summary, run.dag_id, run.run_id)
    if outlet_events is not None:
        outlet_events[assets.postgres_trips()].extra = _event(color, month, summary)
    return summary


def load_zones_to_postgres(base_url: str) -> int:
    """The zone lookup, checked, replaces its table in one transaction; a lookup that is not the
    TLC's fails the task at once, and the run's trip loads, which need it, do not start."""
    from taxi_flows.core.download import SourceError
    from taxi_flows.postgres.connection import postgres_connection
    from taxi_flows.postgres.web_to_postgres import web_to_postgres_zones

    with fail_fast_on_bad_input(), postgres_connection() as conn:
        try:
            return web_to_postgres_zones(conn, hide_secrets_of(base_url), POSTGRES_SCHEMA)
        except SourceError as e:
            raise SourceError(
                f"{e}. The table keeps its rows, and this run's load_trips do not start: they check every "
                "location id against the lookup"
            ) from e


# taxi_web_to_gcs
def month_to_gcs(
    color: str,
    bucket: str,
    base_url: str,
    month: dt.date,
    outlet_events,
    tlc_base_url: str = DEFAULT_TLC_BASE_URL,
    source: str | None = None,
) -> dict:
    """web -> GCS for one trip type and month (runs.run_month); the Asset events carry what was written."""
    from taxi_flows.gcs import storage
    from taxi_flows.gcs.web_to_gcs import web_to_gcs

    urls = {"tlc_base_url": hide_secrets_of(tlc_base_url), "source_name": source}
    with fail_fast_on_bad_input():
        summary = web_to_gcs(storage.client(), bucket, hide_secrets_of(base_url), color, month, **urls)
    event = _event(color, month, summary)
    outlet_events[assets.monthly_parquet(color)].extra = {**event, "uri": summary["monthly_uri"]}
    outlet_events[assets.pickup_date_dataset(color)].extra = {
        **event,
        "uri": summary["dataset_uri"],
        "partitions": summary["partitions"],
    }
    return summary


def _event(color: str, month: dt.date, summary: dict) -> dict:
    """An Asset event's extra for a month loaded: what, how many rows, and from which source file."""
    return {
        "color": color,
        "month": f"{month:%Y-%m}",
        "rows": summary["rows_written"],
        "source": summary["source_name"],
        "source_url": summary["source_url"],
    }


# taxi_daily_trips_to_gcs
def daily_trips_to_gcs(color: str, bucket: str, logical_date: dt.datetime | None, outlet_events) -> dict:
    from taxi_flows.gcs import daily, storage
    from taxi_flows.orchestration.runs import day_of

    day = day_of(logical_date)
    with fail_fast_on_bad_input():
        summary = daily.daily_trips_to_gcs(storage.client(), bucket, color, day)
    extra = {key: summary[key] for key in ("color", "day", "uri", "rows")}
    outlet_events[assets.daily_trips(color)].extra = extra
    return summary


def zones_to_gcs(bucket: str, base_url: str) -> str:
    """The zone lookup from the web to gs://<bucket>/misc/taxi_zone_lookup.parquet (for BigQuery)."""
    from taxi_flows.gcs import storage, web_to_gcs

    with fail_fast_on_bad_input():
        return web_to_gcs.zones_to_gcs(storage.client(), bucket, hide_secrets_of(base_url))


# check_connections
def check(service: str, *args: str) -> str:
    """Run one connection check; a failure fails the task at once, with the advice first."""
    from taxi_flows.orchestration import checks

    run = {"postgres": checks.check_postgres, "bigquery": checks.check_bigquery, "gcs": checks.check_gcs}[service]
    try:
        return run(*args)
    except checks.ConnectionCheckError as e:
        log.error("%s", e)
        raise fail(str(e)) from e


# taxi_reconcile
def reconcile_targets(bucket: str, dataset: str, run_id: str, inlet_events=None) -> dict:
    """Count every target per colour and month, store the counts with each target's last load (its
    latest Asset event among the task's inlets: coverage.counts.with_last_loads; the coverage page
    reads them), and fail, naming each month and its targets' numbers, where they disagree."""
    from taxi_flows.bigquery import queries
    from taxi_flows.bigquery.tables import trips_table
    from taxi_flows.core import publication
    from taxi_flows.core.schema import COLORS
    from taxi_flows.coverage import counts, store
    from taxi_flows.coverage.store import TARGETS, save_counts
    from taxi_flows.gcs import storage
    from taxi_flows.postgres.connection import postgres_connection

    found, absent = [], []
    client, bq = storage.client(), queries.client(GCP_CONN_ID)
    with postgres_connection() as conn:
        previous, _, _ = store.read_counts(conn)
        for color in COLORS:
            found += counts.postgres(conn, POSTGRES_SCHEMA, color)
            found += counts.gcs(client, bucket, color, absent)
            found += counts.bigquery(bq, f"{bq.project}.{dataset}.{trips_table(color)}", color)
        found = counts.with_last_loads(found, _target_events(inlet_events))
        save_counts(conn, found, run_id)
        loads = store.read_loads(conn)
    changed = publication.replaced(loads)  # months whose file was replaced at its URL
    months = sorted({(c.color, c.month) for c in found})
    log.info("counted %d colour-months in %d targets: %d figures stored", len(months), len(TARGETS), len(found))
    wrong = counts.mismatches(found)
    absent += counts.absences(previous, found, loads)
    problems = [f"the targets disagree on {len(wrong)} month(s): " + "; ".join(wrong)] if wrong else []
    problems += [f"{len(absent)} month(s) missing where they were loaded: " + "; ".join(absent)] if absent else []
    problems += [f"{len(changed)} source file(s) replaced since their load: " + "; ".join(changed)] if changed else []
    if problems:
        raise fail(". ".join(problems))
    return {"months": len(months), "figures": len(found)}


LAST_EVENTS = 1000  # per asset: the latest events, enough for every month of a type loaded since 2009


def reconcile_inlets() -> list:
    """The Assets whose events say which run last wrote each target (taxi_reconcile's inlets)."""
    from taxi_flows.core.schema import COLORS

    monthly = [assets.monthly_parquet(color) for color in COLORS]
    dataset = [assets.pickup_date_dataset(color) for color in COLORS]
    return [assets.postgres_trips(), *monthly, *dataset, assets.bigquery_trips()]


def _target_events(inlet_events) -> dict[str, list]:
    from taxi_flows.core.schema import COLORS

    if inlet_events is None:
        return {}

    def latest(*found) -> list:
        return [event for asset in found for event in inlet_events[asset][-LAST_EVENTS:]]

    return {
        "postgres": latest(assets.postgres_trips()),
        "gcs_monthly": latest(*(assets.monthly_parquet(color) for color in COLORS)),
        "gcs_dataset": latest(*(assets.pickup_date_dataset(color) for color in COLORS)),
        "bigquery": latest(assets.bigquery_trips()),
    }
