"""
### What is loaded where: count every target, store the counts, fail on a mismatch

**Run it from the UI.** *Trigger* (▷); it also runs after every load (their Asset events). Airflow
3.1+: the page **Taxi coverage** (in the navigation, or `/taxi/`) shows
the stored counts as a grid, each month's load summary and quality checks, a preview of the rows in
PostgreSQL, and the homework view: the course's week-2 questions (2024, 2025/2026) and module 4's
totals answered from what is loaded, with the missing months and the backfill command that loads
them for a period that is not. It reads the stored results
only. On Airflow 2.10, read them with SQL: `SELECT * FROM ny_taxi.taxi_coverage ORDER BY 1, 2, 3`.

For each trip type and source month, counts the rows in PostgreSQL (`ny_taxi.<color>_tripdata`), in
the GCS monthly file (its Parquet footer), in the pickup-date dataset (the month's committed
manifest, with its number of files) and in BigQuery (`<dataset>.<color>_tripdata`), and stores
them in the table `ny_taxi.taxi_coverage` of the target database (`taxi_postgres`), replacing the
previous run's counts in one transaction. Every target holds every row of each file, so a month
agrees everywhere with the file's own count. The load summaries shown next to them (the source
file's URL, bytes, Last-Modified and ETag; its rows; what the course's cleaning would remove; the
quality checks) are in `ny_taxi.taxi_loads`, written by `taxi_web_to_postgres` after each month.

**When.** On every Asset event of the loads (`taxi_web_to_postgres`, `taxi_web_to_gcs`,
`taxi_gcs_to_bigquery`) and daily at 06:00 UTC. Unpause it to have it run;
`airflow dags test taxi_reconcile` runs it once.

**A source replaced since its load fails the run too.** The TLC sometimes replaces a month's file at
the same URL: for every month in `ny_taxi.taxi_loads`, a HEAD request compares the file's `ETag`
and `Last-Modified` with the load's; a month whose file changed is named ("fhv 2019-02: … changed
since its load …: run the month again to load the new file").

**A mismatch fails the run**, naming each month and its targets' numbers, e.g. `green 2021-02:
PostgreSQL rows 1,190, rows in the GCS monthly file 1,200, …`; the failure alert goes to
`taxi_alerts` as for every task. A month missing from a target is not a mismatch (it may not be
loaded there yet), but **a month that vanished fails the run**, naming month and target: one a
target held at the last count and holds no more, PostgreSQL without the rows of a load
`ny_taxi.taxi_loads` records, a dataset month whose manifest names files that are gone or whose
monthly file is missing (`green 2021-06: PostgreSQL rows none, though run … loaded 268,629`). A
month removed on purpose: delete its row of `ny_taxi.taxi_loads` too. A load running while the
count runs can be counted half-way: the next event's run counts again.

**Code.** `include/taxi_flows/coverage/` (counts, store, the page), the task in
`include/taxi_flows/orchestration/tasks.py`.
"""

from __future__ import annotations

import functools
import operator

import pendulum
from airflow.timetables.trigger import CronTriggerTimetable

from taxi_flows import settings
from taxi_flows.core.schema import COLORS
from taxi_flows.orchestration import assets, tasks
from taxi_flows.orchestration.compat import asset_or_time_schedule, dag, task
from taxi_flows.orchestration.dag_defaults import DEFAULT_ARGS

DAILY = CronTriggerTimetable("0 6 * * *", timezone="UTC")
LOADS = [assets.postgres_trips(), *(assets.monthly_parquet(color) for color in COLORS), assets.bigquery_trips()]


@dag(
    dag_id="taxi_reconcile",
    doc_md=__doc__,
    description="Rows per colour and month in PostgreSQL, GCS and BigQuery, stored for the coverage page",
    schedule=asset_or_time_schedule(DAILY, functools.reduce(operator.or_, LOADS)),
    start_date=pendulum.datetime(2019, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["zoomcamp", "nyc-taxi", "monitoring"],
)
def taxi_reconcile():
    # Its inlets: the load Assets, whose latest events name each target's last load and its run.
    @task(inlets=tasks.reconcile_inlets())
    def count_targets(bucket: str, dataset: str, run_id=None, inlet_events=None) -> dict:
        return tasks.reconcile_targets(bucket, dataset, run_id, inlet_events)

    count_targets(settings.BUCKET_TEMPLATE, settings.DATASET_TEMPLATE)


taxi_reconcile()
