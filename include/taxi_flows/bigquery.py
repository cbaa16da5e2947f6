"""The BigQuery side: tables, their resources, the month-replacing MERGE and the reconciliation.

Final tables ``<dataset>.<color>_tripdata`` are partitioned by day on the pickup date column
(``tpep_pickup_date`` / ``lpep_pickup_date``) and clustered on what the workflows and typical
queries filter by (``source_month``, then the pickup zone); their columns carry the descriptions
of taxi_flows.schema. A month is loaded into a staging table by a load job, then swapped in by
one MERGE statement (atomic in BigQuery): delete the target's rows of that source month, insert
the staging rows. Re-runs and backfills never duplicate, and a failed load leaves the final table
as it was. The project comes from the connection, the dataset from the Variable taxi_bq_dataset,
the location from TAXI_BQ_LOCATION (operators take it at parse time; default US).
"""

from __future__ import annotations

import datetime as dt
import os
from typing import TYPE_CHECKING

from taxi_flows import schema, sqlfiles

if TYPE_CHECKING:
    from google.cloud import bigquery

DATASET_VARIABLE = "taxi_bq_dataset"
LOCATION = os.getenv("TAXI_BQ_LOCATION", "US")
CLUSTER_BY = ("source_month", "pu_location_id")
TIMEOUT = 120  # seconds per API call


def trips_table(color: str) -> str:
    return schema.trip_schema(color).table


def staging_table(color: str, month: dt.date) -> str:
    return f"_staging_{schema.trip_schema(color).table}_{month:%Y%m}"


def trips_table_resource(color: str) -> dict:
    """The REST resource of a final table, as BigQueryCreateTableOperator takes it (the operator adds
    the table reference: the connection's project, the dataset, the table id)."""
    sch = schema.trip_schema(color)
    return {
        "description": f"NYC TLC {color} taxi trips, replaced by source month (taxi-flows).",
        "schema": {"fields": sch.bigquery_schema()},
        "timePartitioning": {"type": "DAY", "field": sch.pickup_date},
        "clustering": {"fields": list(CLUSTER_BY)},
    }


def zone_schema() -> list[dict]:
    return [
        {"name": c.name, "type": c.kind.bigquery, "mode": "NULLABLE", "description": c.description}
        for c in schema.ZONE_COLUMNS
    ]


def replace_month_sql(project: str, dataset: str, color: str, month: dt.date) -> str:
    return sqlfiles.load("bigquery_replace_month.sql").format(
        final=f"{project}.{dataset}.{trips_table(color)}",
        staging=f"{project}.{dataset}.{staging_table(color, month)}",
        month=month.isoformat(),
    )


def client(conn_id: str, location: str = LOCATION) -> bigquery.Client:
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
