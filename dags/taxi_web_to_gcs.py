"""
### NYC taxi trips from the web into GCS: a Parquet file per month, and a dataset by pickup date

**Run it from the UI.** *Trigger* (▷), pick the month in **Month** (the sources' months, newest
first; its description says which months each trip type has) and the trip types in **colors**, then
*Trigger*: the logical date does not matter then. Trigger the same month again to load it again: the
new run replaces the month, never adds to it. For several months, *Trigger* → **Backfill**: from the
first day of the first month to the first day of the last (both included), **Max Active Runs** 3
(the dialog's 1 runs one month at a time). The run's note, on its page and in the grid, names the
month it loads and, if it fails, why. A paused DAG's runs wait: unpause it (unpausing also starts a
catch-up over every month since 2019-01, three at a time, unless `TAXI_CATCHUP=false`). Each month
this DAG writes emits the Asset events that trigger `taxi_gcs_to_bigquery`: unpause that DAG too, or
the months stop at GCS.

The Zoomcamp's `api_to_gcs` pipeline, one run per month, a task per colour.

**Which month.** As `taxi_web_to_postgres`: the run whose logical date is `YYYY-MM-01` handles
month `YYYY-MM` (one run per month from 2019-01 up to the present, each once its month has ended,
or up to `TAXI_SCHEDULE_LAST_MONTH`; catchup over them).
`airflow dags test taxi_web_to_gcs 2021-01-01` writes January 2021. A month outside the range, a run
without a logical date or a conf key other than `colors`, `month` and `source` fails the run in
its first task, naming what is expected. A manual run loads the month picked in the trigger form.

**Params.** `colors` (default both). A colour not asked for is skipped and emits no Asset event.

**What each `<color>_to_gcs` task writes** to the bucket in the Variable `taxi_gcs_bucket`
(connection `google_cloud_default`), streaming the source file once, every row of it in each output
(the blank dispatch tail and the zero passengers and distances included; the course's cleaning is
the BigQuery view `<color>_tripdata_clean`):
- `<color>/<color>_tripdata_<YYYY>-<MM>.parquet`, the month in one file (the BigQuery workflow
  loads it by this exact URI);
- `<color>_tripdata/<t|l>pep_pickup_date=<YYYY-MM-DD>/<YYYY-MM>_<load id>.parquet`, a
  Hive-partitioned dataset: one file per pickup date, source month and load (a second,
  `<YYYY-MM>_<load id>.1.parquet`, holds a date's rows that came after its file went up). The month's manifest
  `<color>_tripdata_manifests/<YYYY-MM>.json`, written after every file, says which load is the
  month's (the commit) and records the source file's URL, bytes, Last-Modified and ETag; then the
files of the month's earlier loads are deleted. Other months'
  files in the same date partitions (late records, out-of-month pickups) are never touched.
  One load of a month at a time: a second waits for the month's lock
  (`<color>_tripdata_manifests/<YYYY-MM>.lock`), logging who holds it, at most
  `TAXI_LOCK_WAIT_SECONDS` (1800), then fails naming the holder.

Rows carry `source_month`. Parquet with the schema of `taxi_flows.core.schema`: naive local times as
TIMESTAMP(MICROS, isAdjustedToUTC=false) (BigQuery: DATETIME), nullable INT64, `ehail_fee` DOUBLE,
SNAPPY, row groups of up to 65,536 rows. The files are built locally (at most 65,536 rows buffered
across dates). A day of the month whose rows are over (a file in pickup order has moved on) goes up
while the rest is read, under this load's names, which no manifest names yet; the monthly file and
the other dates go up once the month passed the same data-quality checks as `taxi_web_to_postgres`:
bad input (404, HTML page, truncated gzip, changed header, wrong types, failed checks) fails at
once, deletes what the load had uploaded, and changes nothing. GCS has no multi-object transactions: the
manifest is the month's one-step commit, and `taxi_daily_trips_to_gcs` reads through it, so a load
that fails half-way (GCS down mid-upload) leaves readers on the previous load, whole.

**Assets.** `<color>_to_gcs` updates `taxi_flows.<color>_tripdata.monthly_parquet` and
`taxi_flows.<color>_tripdata.by_pickup_date`; each event's extra carries `color`, `month`, `uri`
and `rows`.

**Code.** `include/taxi_flows/gcs/`: `web_to_gcs.py` (the monthly file and the partitioned write),
`layout.py` (object names), `parquet.py` (the writers), `storage.py` (the GCS calls).
"""

from __future__ import annotations

from taxi_flows import settings
from taxi_flows.core.schema import COLORS
from taxi_flows.orchestration import assets, dag_defaults, tasks, waits
from taxi_flows.orchestration.compat import dag, run_type, task
from taxi_flows.orchestration.runs import check_conf, run_month, skip_unless_selected


@dag(
    dag_id="taxi_web_to_gcs",
    doc_md=__doc__,
    description="NYC taxi trips, one month a run, into GCS as Parquet: one file, and a dataset by pickup date",
    tags=["zoomcamp", "nyc-taxi", "gcs"],
    schedule=dag_defaults.monthly_timetable(),
    **dag_defaults.monthly_dag_args(),
)
def taxi_web_to_gcs():
    @task(max_active_tis_per_dag=settings.HEAVY_TASKS_PER_DAG)
    def month_to_gcs(
        color: str,
        bucket: str,
        base_url: str,
        tlc_base_url: str,
        logical_date=None,
        params=None,
        outlet_events=None,
        dag_run=None,
    ):
        check_conf(dag_run, params)
        skip_unless_selected(color, params["colors"])
        source = params.get("source")
        month = run_month(logical_date, params, run_type(dag_run), color, source)
        return tasks.month_to_gcs(color, bucket, base_url, month, outlet_events, tlc_base_url, source)

    @task.sensor(**dag_defaults.publication_sensor_args())
    def wait_until_published(tlc_base_url: str, logical_date=None, params=None, dag_run=None) -> bool:
        check_conf(dag_run, params)
        return waits.wait_until_published(
            params["colors"], tlc_base_url, logical_date, params.get("source"), params, run_type(dag_run)
        )

    published = wait_until_published(settings.TLC_BASE_URL_TEMPLATE)
    for color in COLORS:
        published >> month_to_gcs.override(
            task_id=f"{color}_to_gcs",
            outlets=[assets.monthly_parquet(color), assets.pickup_date_dataset(color)],
        )(color, settings.BUCKET_TEMPLATE, settings.BASE_URL_TEMPLATE, settings.TLC_BASE_URL_TEMPLATE)


taxi_web_to_gcs()
