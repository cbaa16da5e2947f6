"""The entry points of taxi_gcs_to_bigquery's tasks (as taxi_flows.orchestration.tasks for the
other DAGs): which months a run loads, the dataset and tables, the MERGE with its row counts, the
checks before and after it, the staging table's drop. Each opens the client of the google
provider's BigQueryHook (GoogleSQL) and logs one readable line of what it did.

Imported by the DAG file at parse time: the clients are imported inside the functions.
"""

from __future__ import annotations

import datetime as dt
import logging

from taxi_flows.orchestration import assets
from taxi_flows.orchestration.runs import fail, run_month
from taxi_flows.settings import GCP_CONN_ID

log = logging.getLogger(__name__)


def bigquery_plan(
    bucket: str,
    dataset: str,
    colors: list[str],
    logical_date: dt.datetime | None,
    triggering_asset_events,
    run_type: str | None = None,
    picked: str | None = None,
    inlet_events=None,
) -> list[dict]:
    """The months a taxi_gcs_to_bigquery run loads, one dict of arguments per month for the
    mapped task group (the rules: taxi_flows.bigquery.plan). picked: params.month, a manual run's
    month (runs.run_month); inlet_events: the task's, for the newest events of the monthly Parquet
    assets and of the BigQuery trips asset (read only when the run has triggering events)."""
    from taxi_flows.bigquery import plan, queries
    from taxi_flows.core.months import month_start

    triggered = [event for events in (triggering_asset_events or {}).values() for event in events]
    logical_month = month_start(logical_date) if logical_date is not None else None  # the plan checks it
    if picked:
        logical_month = run_month(logical_date, {"month": picked}, run_type)
    try:
        later, loaded = _recent_events(inlet_events) if triggered else ([], [])
        wanted = plan.months_to_load(triggered, logical_month, colors, run_type, later, loaded)
    except ValueError as e:
        raise fail(str(e)) from e
    project = queries.client(GCP_CONN_ID).project
    months = plan.month_arguments(wanted, bucket, project, dataset)
    log.info("loading %s from gs://%s into %s.%s", [f"{c} {m}" for c, m in sorted(wanted)], bucket, project, dataset)
    return months


RECENT_EVENTS = 200  # per asset: more than a backfill's months of one type between two runs


def _recent_events(inlet_events) -> tuple[list, list]:
    """(the newest events of the monthly Parquet assets, of the BigQuery trips asset)."""
    from taxi_flows.core.schema import COLORS

    if inlet_events is None:
        return [], []
    later = [e for color in COLORS for e in inlet_events[assets.monthly_parquet(color)][-RECENT_EVENTS:]]
    return later, list(inlet_events[assets.bigquery_trips()][-RECENT_EVENTS * len(COLORS) :])


def prepare_bigquery_tables(dataset: str, plan: list[dict]) -> list[str]:
    """The final tables (and clean views) of the trip types this run loads, created or brought up
    to the schema; the types it does not load are left as they are. One line each in the log."""
    from taxi_flows.bigquery import queries

    bq = queries.client(GCP_CONN_ID)
    done = [queries.prepare_trips_table(bq, dataset, color) for color in sorted({p["color"] for p in plan})]
    for line in done:
        log.info("%s", line)
    return done


def create_bigquery_dataset(dataset: str) -> str:
    """The run's dataset, created in TAXI_BQ_LOCATION if missing."""
    from taxi_flows.bigquery import queries

    done = queries.create_dataset(queries.client(GCP_CONN_ID), dataset)
    log.info("%s", done)
    return done


def replace_bigquery_month(color: str, month: str, final: str, merge: str) -> dict:
    """The month's rows in the final table replaced by the staged ones (one MERGE); the log says
    how many rows it deleted and inserted."""
    from taxi_flows.bigquery import queries
    from taxi_flows.core.months import month_start

    bq = queries.client(GCP_CONN_ID)
    done = queries.replace_month(bq, merge, final, month_start(month))
    log.info(
        "%s %s: MERGE into %s deleted %s rows (the month held %s) and inserted %s (job %s)",
        color,
        month,
        final,
        f"{done['deleted']:,}",
        f"{done['before']:,}",
        f"{done['inserted']:,}",
        done["job"],
    )
    return done


def drop_bigquery_table(table: str) -> str:
    """A staging table dropped (teardown: whatever the load's outcome)."""
    from taxi_flows.bigquery import queries

    done = queries.drop_table(queries.client(GCP_CONN_ID), table)
    log.info("%s", done)
    return done


def check_staged(staging: str, expected_rows: int | None) -> int:
    """The staging table holds the month's Parquet file: rows > 0, and the count the Asset event
    announced when there was one. Otherwise nothing is merged."""
    from taxi_flows.bigquery import queries

    rows = queries.table_rows(queries.client(GCP_CONN_ID), staging)
    if rows == 0:
        raise fail(f"{staging} is empty: the month's Parquet file has no rows")
    if expected_rows is not None and rows != expected_rows:
        raise fail(f"{staging} holds {rows:,} rows but the Parquet file had {expected_rows:,} (Asset event)")
    log.info("%s: %s rows staged", staging, f"{rows:,}")
    return rows


def reconcile_month(
    color: str, final: str, staging: str, month: str, outlet_events=None, source_uri: str | None = None
) -> int:
    """The final table's rows of the month equal the staged Parquet rows, or the run fails; the
    Asset event (which triggers taxi_reconcile) names the colour and month."""
    from taxi_flows.bigquery import queries
    from taxi_flows.core.months import month_start

    bq = queries.client(GCP_CONN_ID)
    staged = queries.table_rows(bq, staging)
    loaded = queries.month_rows(bq, final, month_start(month))
    if loaded != staged:
        raise fail(
            f"{final}: {loaded:,} rows of source_month {month} after the MERGE, but {staged:,} in the Parquet file"
        )
    log.info("%s: source_month %s has %s rows, as the Parquet file", final, month, f"{loaded:,}")
    if outlet_events is not None:
        extra = {"color": color, "month": month, "rows": loaded, "uri": source_uri}
        outlet_events[assets.bigquery_trips()].extra = {k: v for k, v in extra.items() if v is not None}
    return loaded


def load_parquet(uri: str, table: str, schema_fields: list[dict]) -> int:
    """A BigQuery load job of a Parquet file (its gs:// URI) into a table, replaced (WRITE_TRUNCATE,
    created if missing) with the schema's types, through the google provider's BigQueryHook's
    client. BigQuery rejecting the input itself (400: the file's schema or values do not fit; 404:
    no such object or table) fails the task at once, without retries: retrying cannot fix the file.
    Transient errors (429, 5xx, the network) keep the task's retries. Its log: what is loaded where,
    then the rows loaded."""
    from google.api_core.exceptions import BadRequest, NotFound
    from google.cloud import bigquery

    from taxi_flows.bigquery import queries

    bq = queries.client(GCP_CONN_ID)
    config = bigquery.LoadJobConfig(
        source_format=bigquery.SourceFormat.PARQUET,
        schema=[bigquery.SchemaField.from_api_repr(field) for field in schema_fields],
        write_disposition=bigquery.WriteDisposition.WRITE_TRUNCATE,
        create_disposition=bigquery.CreateDisposition.CREATE_IF_NEEDED,
    )
    log.info("BigQuery load job: %s -> %s", uri, table)
    log.info("  format PARQUET, WRITE_TRUNCATE, CREATE_IF_NEEDED, schema of %d columns", len(schema_fields))
    try:
        job = bq.load_table_from_uri(uri, table, job_config=config, location=bq.location, timeout=queries.TIMEOUT)
        job.result(timeout=LOAD_TIMEOUT)
    except (BadRequest, NotFound) as e:
        raise fail(f"BigQuery rejected the load of {uri} into {table}: {e.message}") from e
    rows = job.output_rows if job.output_rows is not None else queries.table_rows(bq, table)
    log.info("%s: %s rows loaded (job %s)", table, f"{rows:,}", job.job_id)
    return rows


LOAD_TIMEOUT = 1800  # seconds: a month of fhvhv is about 20M rows
