"""
### One day of NYC taxi trips as a Parquet file, keyed by the run's date

**Run it from the UI.** *Trigger* (▷) with the logical date set to the day, 00:00 UTC (`2021-01-15`;
a day before 2009-01-01 or one that has not ended fails the run, naming the range) and the trip types
in **colors**; the day's month must have been loaded by `taxi_web_to_gcs`. To run a day again,
*Clear* its run. The run's note names the day and, if it fails, why. A paused DAG's runs wait:
unpausing it also starts a catch-up over every day 2019-01-01 … 2021-07-31, four at a time
(`TAXI_CATCHUP=false` turns that off), so unpause it once `taxi_web_to_gcs` has loaded those months;
a day of a month loaded later fails, and *Clear* runs it again.

The Zoomcamp's parameterised `load_to_gcp_parameterized` pipeline: the object key comes from the
run's date, never from `now()`.

**Which day.** One run per day of the mirror's months, at 00:00 UTC (2019-01-01 … 2021-07-31;
a later day runs by hand once `taxi_web_to_gcs` has loaded its month), catchup over them: the
run whose logical date is day `D` writes the trips picked up on `D` (the date part of the naive
local pickup time). (The course's homework runs at 05:00 UTC on live data; this source is
historical.) A day outside the range fails the run, naming it.
`airflow dags test taxi_daily_trips_to_gcs 2021-01-15` writes 15 January 2021; a backfill of a
week writes seven objects per colour; a re-run rewrites its one object.

**Params.** `colors` (default both).

**What `<color>_daily_trips` does.** Reads every source month's file of the date partition
`<color>_tripdata/<t|l>pep_pickup_date=D/` written by `taxi_web_to_gcs` (late records of the next
month's file included), each month's committed load only (as its manifest says: a load that failed
half-way is never read), and writes `<color>/{YYYY}/{MM}/{DD}/daily-trips.parquet` with the full
schema, in pickup order. A day with no trips in a month that is loaded gets an empty file with the
schema, and the task log says so; a day whose month `taxi_web_to_gcs` has not loaded (no committed
load) fails at once, naming the month to load, and writes nothing: an empty export would look done.

**Assets.** Updates `taxi_flows.<color>_tripdata.daily_trips` (extra: `color`, `day`, `uri`, `rows`).
Bucket: Variable `taxi_gcs_bucket`; connection `google_cloud_default`.

**Code.** `include/taxi_flows/gcs/daily.py`.
"""

from __future__ import annotations

from taxi_flows import settings
from taxi_flows.core.schema import COLORS
from taxi_flows.orchestration import assets, dag_defaults, tasks
from taxi_flows.orchestration.compat import dag, task
from taxi_flows.orchestration.runs import check_conf, skip_unless_selected


@dag(
    dag_id="taxi_daily_trips_to_gcs",
    doc_md=__doc__,
    description="The trips of one pickup day, from the GCS dataset, as <color>/YYYY/MM/DD/daily-trips.parquet",
    tags=["zoomcamp", "nyc-taxi", "gcs"],
    schedule=dag_defaults.daily_timetable(),
    **dag_defaults.daily_dag_args(),
)
def taxi_daily_trips_to_gcs():
    @task
    def daily_trips(color: str, bucket: str, logical_date=None, params=None, outlet_events=None, dag_run=None):
        check_conf(dag_run, params)
        skip_unless_selected(color, params["colors"])
        return tasks.daily_trips_to_gcs(color, bucket, logical_date, outlet_events)

    for color in COLORS:
        daily_trips.override(task_id=f"{color}_daily_trips", outlets=[assets.daily_trips(color)])(
            color, settings.BUCKET_TEMPLATE
        )


taxi_daily_trips_to_gcs()
