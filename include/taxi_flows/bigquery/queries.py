"""What taxi_flows runs on BigQuery besides the provider's operators: the month-replacing MERGE
(sql/replace_month.sql, run by BigQueryInsertJobOperator) and the row counts the loads check.

The client is the google provider's BigQueryHook's (it honours BIGQUERY_EMULATOR_HOST); the
project comes from the connection, the location from TAXI_BQ_LOCATION (taxi_flows.settings).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from taxi_flows.bigquery.tables import staging_table, trips_table
from taxi_flows.core import sqlfiles
from taxi_flows.settings import BQ_LOCATION

if TYPE_CHECKING:
    from google.cloud import bigquery

TIMEOUT = 120  # seconds per API call


def replace_month_sql(project: str, dataset: str, color: str, month: dt.date) -> str:
    """One MERGE, atomic in BigQuery: delete the final table's rows of the month, insert the staged ones."""
    return sqlfiles.load(__package__, "replace_month.sql").format(
        final=f"{project}.{dataset}.{trips_table(color)}",
        staging=f"{project}.{dataset}.{staging_table(color, month)}",
        month=month.isoformat(),
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
