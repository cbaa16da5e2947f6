"""What taxi_flows runs on BigQuery besides the provider's load operator: the dataset, the final
tables and views a run needs, the month-replacing MERGE (sql/replace_month.sql) with its row
counts, the staging table's drop and the row counts the loads check.

The client is the google provider's BigQueryHook's (it honours BIGQUERY_EMULATOR_HOST); the
project comes from the connection, the location from TAXI_BQ_LOCATION (taxi_flows.settings).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from taxi_flows.bigquery.tables import (
    clean_view_sql,
    staging_table,
    trip_schema_fields,
    trips_table,
    trips_table_resource,
)
from taxi_flows.core import sqlfiles
from taxi_flows.core.schema import trip_schema
from taxi_flows.settings import BQ_LOCATION

if TYPE_CHECKING:
    from google.cloud import bigquery

TIMEOUT = 120  # seconds per API call


def replace_month_sql(project: str, dataset: str, color: str, month: dt.date) -> str:
    """One MERGE, atomic in BigQuery: delete the final table's rows of the month, insert the staged ones."""
    names = [c.name for c in trip_schema(color).columns]
    return sqlfiles.load(__package__, "replace_month.sql").format(
        final=f"{project}.{dataset}.{trips_table(color)}",
        staging=f"{project}.{dataset}.{staging_table(color, month)}",
        month=month.isoformat(),
        columns=", ".join(f"`{name}`" for name in names),
        values=", ".join(f"source.`{name}`" for name in names),
    )


def client(conn_id: str, location: str = BQ_LOCATION) -> bigquery.Client:
    """The BigQuery client of the provider's hook (it honours BIGQUERY_EMULATOR_HOST)."""
    from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook

    hook = BigQueryHook(gcp_conn_id=conn_id, location=location, use_legacy_sql=False)
    return hook.get_client(project_id=hook.project_id, location=location)


def month_rows(bq: bigquery.Client, table: str, month: dt.date) -> int:
    """Rows of one source month in a table (project.dataset.table)."""
    from google.cloud import bigquery

    job = bq.query(
        f"SELECT COUNT(*) AS n FROM `{table}` WHERE source_month = @month",
        job_config=bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("month", "DATE", month)]),
        timeout=TIMEOUT,
    )
    return next(iter(job.result(timeout=TIMEOUT))).n


def table_rows(bq: bigquery.Client, table: str) -> int:
    return next(iter(bq.query(f"SELECT COUNT(*) AS n FROM `{table}`", timeout=TIMEOUT).result(timeout=TIMEOUT))).n


def prepare_trips_table(bq: bigquery.Client, dataset: str, color: str) -> str:
    """The final table of a trip type, ready for a month's MERGE: created if missing (partitioned,
    clustered, described); given the columns the schema gained since an older version created it
    (a schema patch: the rows it holds get NULL); its clean view replaced, so the view has
    those columns too (a BigQuery view keeps the columns of its creation). What it did, as a sentence."""
    from google.api_core.exceptions import NotFound
    from google.cloud import bigquery

    table_id = f"{bq.project}.{dataset}.{trips_table(color)}"
    try:
        table, done = bq.get_table(table_id, timeout=TIMEOUT), "exists"
    except NotFound:
        resource = trips_table_resource(color) | {
            "tableReference": {"projectId": bq.project, "datasetId": dataset, "tableId": trips_table(color)}
        }
        table = bq.create_table(bigquery.Table.from_api_repr(resource), exists_ok=True, timeout=TIMEOUT)
        done = "created"
    have = {field.name for field in table.schema}
    missing = [f for f in trip_schema_fields(color) if f["name"] not in have]
    if missing:  # a patch of the schema (nullable columns may be added so), with their descriptions
        table.schema = [*table.schema, *(bigquery.SchemaField.from_api_repr(f) for f in missing)]
        bq.update_table(table, ["schema"], timeout=TIMEOUT)
        done += f", columns added: {', '.join(f['name'] for f in missing)}"
    if trip_schema(color).clean_view:
        bq.query(clean_view_sql(color, dataset), timeout=TIMEOUT).result(timeout=TIMEOUT)
        done += f"; view {trip_schema(color).clean_view} replaced"
    return f"{table_id}: {done}"


def create_dataset(bq: bigquery.Client, dataset: str, location: str = BQ_LOCATION) -> str:
    """The dataset, created in `location` if missing; one line saying which."""
    from google.cloud import bigquery

    resource = bigquery.Dataset(f"{bq.project}.{dataset}")
    resource.location = location
    existed = _exists(bq.get_dataset, resource.reference)
    bq.create_dataset(resource, exists_ok=True, timeout=TIMEOUT)
    return f"dataset {bq.project}.{dataset}: {'exists' if existed else 'created'} ({location})"


def drop_table(bq: bigquery.Client, table: str) -> str:
    """The table dropped if it exists; one line saying which."""
    existed = _exists(bq.get_table, table)
    bq.delete_table(table, not_found_ok=True, timeout=TIMEOUT)
    return f"{table}: {'dropped' if existed else 'not there (nothing to drop)'}"


def replace_month(bq: bigquery.Client, sql: str, final: str, month: dt.date) -> dict:
    """Run the month's MERGE (one statement: atomic); {'deleted', 'inserted', 'before', 'job'}: the
    rows it deleted and inserted (the job's DML statistics where BigQuery gives them, else the
    month's rows before and after), the month's rows before it, and the job's id."""
    before = month_rows(bq, final, month)
    job = bq.query(sql, location=bq.location, timeout=TIMEOUT)
    job.result(timeout=TIMEOUT)
    stats = getattr(job, "dml_stats", None)
    if stats is not None and stats.inserted_row_count is not None:
        deleted, inserted = stats.deleted_row_count or 0, stats.inserted_row_count
    else:
        deleted, inserted = before, month_rows(bq, final, month)
    return {"deleted": deleted, "inserted": inserted, "before": before, "job": job.job_id}


def _exists(get, reference) -> bool:
    from google.api_core.exceptions import NotFound

    try:
        get(reference, timeout=TIMEOUT)
    except NotFound:
        return False
    return True
