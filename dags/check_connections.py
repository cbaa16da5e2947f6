"""
### Check the connections (the course's `test_config`)

**Run it from the UI.** *Trigger* (▷), first and whenever something cannot connect; a failed check
says what to fix on the run's page (its task log) and in one line of the log. From a shell:
`airflow dags test check_connections`.

- `check_postgres`: `SELECT 1` on the connection `taxi_postgres` (connect timeout 10 s);
- `check_bigquery`: `SELECT 1` on BigQuery through the hook's client, with the connection
  `google_cloud_default` (timeout 10 s; honours `BIGQUERY_EMULATOR_HOST`);
- `check_gcs`: the bucket of the Variable `taxi_gcs_bucket` exists and can be listed (timeout 10 s).

A failed check fails at once (no retries) with a sentence that says what to fix, then the
original error: nothing listening at the port (start the stack, or fix `TAXI_PG_PORT` /
the emulator variables), a wrong password or database, a key file missing at its path, an API
not enabled, a missing role (with the least role that works, not Owner), a missing bucket or
dataset. The checks are independent: one failing does not hide the others. For example:
`BigQuery: The service account lacks a role for BigQuery: grant roles/bigquery.jobUser on the
project (to run jobs) and roles/bigquery.dataEditor on the dataset.` or `PostgreSQL: Nothing
listens at 127.0.0.1:5432/taxi: is PostgreSQL running, and is the port right?`

**Code.** `include/taxi_flows/orchestration/checks.py`.
"""

from __future__ import annotations

import pendulum

from taxi_flows import settings
from taxi_flows.orchestration import tasks
from taxi_flows.orchestration.compat import dag, task
from taxi_flows.orchestration.dag_defaults import DEFAULT_ARGS


@dag(
    dag_id="check_connections",
    doc_md=__doc__,
    description="SELECT 1 on PostgreSQL and BigQuery, and a bucket check on GCS, with advice when one fails",
    schedule=None,
    start_date=pendulum.datetime(2019, 1, 1, tz="UTC"),
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["zoomcamp", "monitoring"],
)
def check_connections():
    @task
    def check_postgres() -> str:
        return tasks.check("postgres")

    @task
    def check_bigquery() -> str:
        return tasks.check("bigquery")

    @task
    def check_gcs(bucket: str) -> str:
        return tasks.check("gcs", bucket)

    check_postgres()
    check_bigquery()
    check_gcs(settings.BUCKET_TEMPLATE)


check_connections()
