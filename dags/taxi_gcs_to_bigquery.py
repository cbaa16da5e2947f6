"""
### NYC taxi months from GCS into BigQuery, replaced by source month

**Run it from the UI.** Unpause it with `taxi_web_to_gcs`: each month `taxi_web_to_gcs` writes
then reaches BigQuery by itself, through its Asset event, once (a run loads the months of the events
that triggered it). By hand: *Trigger* (▷), pick the month in **Month** and the trip types in
**colors**; the month's Parquet file must be in the bucket. Trigger it again to load it again (the
MERGE replaces the month). The run's note names what it loads and, if it fails, why. Unpausing it
starts no catch-up (`catchup` is off).

The Zoomcamp's `gcs_to_bigquery` pipeline, without its duplicates: the course appended, so every
re-run added the month again; here a month is staged, then swapped in by one MERGE.

**When it runs.** On the Asset events of `taxi_web_to_gcs` (a month of either colour written to
`<color>/<color>_tripdata_<YYYY>-<MM>.parquet`): one run loads every month whose event triggered
it. It also has a monthly time schedule (asset-*or*-time), so it can be backfilled with the same
month semantics as the other DAGs: a run without Asset events loads the month of its logical date
(`YYYY-MM-01` = month `YYYY-MM`, from 2019-01 up to the latest month ended; a month no source has
fails the run, naming the range)
for `params.colors`:
`airflow dags test taxi_gcs_to_bigquery 2021-01-01`,
`airflow backfill create --dag-id taxi_gcs_to_bigquery --from-date 2021-01-01 --to-date 2021-03-01`.
`catchup` is off: unpausing it does not load every month since 2019 that may not be in the bucket yet.
`max_active_runs=1`: one writer per table at a time (concurrent MERGEs into one table conflict).

**Steps.**
1. `plan_months`: which (colour, month) pairs: the months of the Asset events that triggered the
   run, and no others (Airflow hands a run the events since the DAG's previous Asset-triggered
   run, so each month written to GCS is loaded once), plus any event of the same files that
   landed while the scheduler turned the queue into this run (Airflow leaves it out of the run and
   drops its queue entry); a month BigQuery already has from after its event is skipped, so the
   next run does not load it again. A time-scheduled, backfill or manual run loads the logical
   date's month (or the one picked) of each colour of `params.colors`.
2. `create_dataset` (Variable `taxi_bq_dataset`, in `TAXI_BQ_LOCATION`; kept if it exists),
   then `prepare_tables`, for the trip types the plan loads (the others are left as they are):
   the final table `<type>_tripdata` created if missing (every row of each file; partitioned by
   day on `tpep_pickup_date` / `lpep_pickup_date` / `pickup_date`, clustered on `source_month,
   pu_location_id`, every column described), given the columns the schema gained since an older
   version created it (`airport_fee`, `cbd_congestion_fee`: `ALTER TABLE … ADD COLUMN`, DDL: no
   bytes billed), and for yellow and green the view `<color>_tripdata_clean` replaced: the
   course's cleaning, the rows with `passenger_count > 0 AND trip_distance > 0` (the 2024
   homework's figures; the later modules count every row). Its log says what it did to each.
3. `load_month` (mapped, one group per month, independent of the others):
   - `load_staging`: a load job of the month's Parquet file, by its exact URI, into
     `_staging_<color>_tripdata_<YYYYMM>` with the schema's types; a file with another schema
     fails here, at once and without retries, as BigQuery rejects it; its log says what it loads
     where, then the rows loaded;
   - `check_staged`: rows > 0, and as many as the Asset event said;
   - `replace_month`: one MERGE that deletes the month's rows and inserts the staged ones,
     atomically; its log says how many rows it deleted and inserted;
   - `reconcile`: the month's rows in the final table equal the Parquet file's, or the run fails;
     its Asset event (`taxi_flows.tripdata.bigquery`) triggers `taxi_reconcile`;
   - `drop_staging` (teardown): drops the staging table once the load has run, whatever followed.
4. `zone_lookup_to_gcs` → `load_zone_lookup`: `misc/taxi_zone_lookup.csv` from the web, as Parquet
   in the bucket, then into `<dataset>.taxi_zone_lookup` (WRITE_TRUNCATE, atomic).

**Configuration.** Connection `google_cloud_default` (its project is the tables' project);
Variables `taxi_bq_dataset`, `taxi_gcs_bucket`, `taxi_source_base_url`; environment
`TAXI_BQ_LOCATION` (default `US`) for the dataset and the jobs.

**The emulator and production.** The path uses only load jobs, DDL through the API and MERGE,
which real BigQuery and the local emulator (local-bigquery) both run. The emulator has no external
tables and no `table$YYYYMMDD` partition decorators; the design needs neither (it stages and
MERGEs instead of loading into a partition), so nothing is emulator-specific.

**Code.** `include/taxi_flows/bigquery/`: `plan.py` (which months a run loads), `tables.py` (the
tables' resources), `sql/replace_month.sql` (the MERGE), `queries.py` (the dataset, the MERGE
with its row counts, the drops and counts, through the google provider's BigQueryHook's client,
GoogleSQL). Every BigQuery call is in a task (`orchestration/bigquery_tasks.py`, through the
google provider's BigQueryHook, imported there): the file parses without importing the BigQuery
client.
"""

from __future__ import annotations

from taxi_flows import settings
from taxi_flows.bigquery.tables import zone_schema_fields
from taxi_flows.core.schema import COLORS, ZONE_TABLE
from taxi_flows.gcs.layout import ZONES_OBJECT
from taxi_flows.orchestration import assets, bigquery_tasks, dag_defaults, tasks
from taxi_flows.orchestration.compat import (
    asset_or_time_schedule,
    dag,
    get_current_context,
    run_type,
    task,
    task_group,
    triggering_events,
)
from taxi_flows.orchestration.runs import check_conf

MONTH_LABEL = (
    "{% set m = (ti.xcom_pull(task_ids='plan_months') or [])[ti.map_index] %}{{ m['color'] }} {{ m['month'] }}"
)


@dag(
    dag_id="taxi_gcs_to_bigquery",
    doc_md=__doc__,
    description="Monthly Parquet files from GCS into BigQuery, each month replaced atomically by source_month",
    tags=["zoomcamp", "nyc-taxi", "bigquery"],
    schedule=asset_or_time_schedule(dag_defaults.monthly_timetable(), assets.any_monthly_parquet()),
    **dag_defaults.monthly_dag_args(
        # The months come from GCS: no source to pick.
        params={"colors": dag_defaults.colors_param(), "month": dag_defaults.month_param()},
        catchup=False,
        max_active_runs=1,  # one writer per table at a time: concurrent MERGEs into a table conflict
    ),
)
def taxi_gcs_to_bigquery():
    # Its inlets: the newest events of the monthly Parquet files and of the BigQuery loads, read
    # when the run was triggered by events (taxi_flows.bigquery.plan: an event the queue dropped).
    @task(inlets=[*(assets.monthly_parquet(color) for color in COLORS), assets.bigquery_trips()])
    def plan_months(bucket: str, dataset: str, params=None, logical_date=None, dag_run=None, inlet_events=None):
        check_conf(dag_run, params)
        events = triggering_events(get_current_context())
        kind, picked = run_type(dag_run), params.get("month")
        colors = params["colors"]
        return bigquery_tasks.bigquery_plan(bucket, dataset, colors, logical_date, events, kind, picked, inlet_events)

    plan = plan_months(settings.BUCKET_TEMPLATE, settings.DATASET_TEMPLATE)

    @task
    def create_dataset(dataset: str) -> str:
        return bigquery_tasks.create_bigquery_dataset(dataset)

    dataset_ready = create_dataset(settings.DATASET_TEMPLATE)

    @task
    def prepare_tables(dataset: str, plan: list[dict]) -> list[str]:
        return bigquery_tasks.prepare_bigquery_tables(dataset, plan)

    tables = prepare_tables(settings.DATASET_TEMPLATE, plan)
    dataset_ready >> tables

    @task
    def check_staged(staging: str, expected_rows: int | None) -> int:
        return bigquery_tasks.check_staged(staging, expected_rows)

    @task
    def replace_month(color: str, month: str, final: str, merge: str) -> dict:
        return bigquery_tasks.replace_bigquery_month(color, month, final, merge)

    @task(outlets=[assets.bigquery_trips()])
    def reconcile(color: str, final: str, staging: str, month: str, source_uri: str, outlet_events=None) -> int:
        return bigquery_tasks.reconcile_month(color, final, staging, month, outlet_events, source_uri)

    # A load job of Parquet files into a table, replaced; a file BigQuery rejects fails at once.
    @task
    def load_parquet(uri: str, table: str, schema_fields: list[dict]) -> int:
        return bigquery_tasks.load_parquet(uri, table, schema_fields)

    @task
    def drop_staging(staging: str) -> str:
        return bigquery_tasks.drop_bigquery_table(staging)

    # Each mapped task of load_month is labelled by its colour and month ("green 2021-01") in the
    # UI, from the plan its map index points into.
    @task_group(default_args={"map_index_template": MONTH_LABEL})
    def load_month(color, month, source_uri, staging, final, schema_fields, merge, expected_rows):
        load_staging = load_parquet.override(task_id="load_staging")(source_uri, staging, schema_fields)
        checked = check_staged(staging, expected_rows)
        merged = replace_month(color, month, final, merge)
        dropped = drop_staging(staging)
        load_staging >> checked >> merged >> reconcile(color, final, staging, month, source_uri) >> dropped
        dropped.as_teardown(setups=load_staging)

    months = load_month.expand_kwargs(plan)
    tables >> months

    @task
    def zone_lookup_to_gcs(bucket: str, base_url: str) -> str:
        return tasks.zones_to_gcs(bucket, base_url)

    zones_table = settings.DATASET_TEMPLATE + "." + ZONE_TABLE
    zones_uri = f"gs://{settings.BUCKET_TEMPLATE}/{ZONES_OBJECT}"
    load_zone_lookup = load_parquet.override(task_id="load_zone_lookup")(zones_uri, zones_table, zone_schema_fields())
    dataset_ready >> zone_lookup_to_gcs(settings.BUCKET_TEMPLATE, settings.BASE_URL_TEMPLATE) >> load_zone_lookup


taxi_gcs_to_bigquery()
