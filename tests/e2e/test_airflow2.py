"""End to end on Airflow 2 (Cloud Composer's 2.10.5 builds), as its users run the bundle:

1. `airflow dags backfill -s 2021-01-01 -e 2021-03-01 taxi_web_to_postgres`, the README's Airflow 2
   command, loads January to March of both colours, with exactly the rows of the served files
   (every one);
2. a month written by taxi_web_to_gcs (an Airflow 2 backfill too) emits its Dataset event, the
   real scheduler turns it into a Dataset-triggered taxi_gcs_to_bigquery run, and that run loads
   the month of the event (not the month of its own logical date, which is "now") into BigQuery;
   then a backfill of two other months: the runs their events trigger load those two, and not
   the first month again.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from support.e2e import COMPONENT_ENV, expected_rows, month_period, wait_for

from taxi_dev import airflow_meta
from taxi_flows import settings
from taxi_flows.bigquery import queries
from taxi_flows.core.months import month_start
from taxi_flows.orchestration import assets
from taxi_flows.orchestration.compat import AIRFLOW_3, AIRFLOW_VERSION, asset_name

# The real scheduler, the backfill CLI, the UI: what changes between Airflow's minor releases. The
# data code they run is tested on every leg by the integration tests.
pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.depends_on("airflow-release")]
if AIRFLOW_3:
    pytest.skip(
        f"Airflow {AIRFLOW_VERSION} has no `airflow dags backfill` (test_backfill_and_ui.py runs its backfills)",
        allow_module_level=True,
    )

MONTHS = ("2021-01", "2021-02", "2021-03")


@pytest.fixture(scope="module")
def dags_in_db(stack):
    """The DAGs and their Dataset references in the metadata database, as the scheduler would write them."""
    stack.airflow("dags", "reserialize", quiet=True)
    return stack


def postgres_counts(stack, color: str) -> dict[str, int]:
    import psycopg

    with psycopg.connect(stack.s.pg_uri(stack.s.target_db)) as conn:
        rows = conn.execute(
            f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM ny_taxi.{color}_tripdata GROUP BY 1 ORDER BY 1"
        ).fetchall()
    return dict(rows)


@pytest.mark.timeout(900)
def test_airflow_dags_backfill_loads_january_to_march(dags_in_db, pg):
    stack = dags_in_db
    airflow_meta.delete_runs("taxi_web_to_postgres")  # the integration tests' runs of the same months
    stack.airflow("dags", "backfill", "-s", "2021-01-01", "-e", "2021-03-01", "taxi_web_to_postgres", quiet=True)
    runs = [r for r in airflow_meta.run_periods("taxi_web_to_postgres") if r[0] == "backfill"]
    # Each run's logical date and data interval are the month it loaded (the timetable's plugin).
    assert runs == [("backfill", *month_period(m), "success") for m in MONTHS], runs
    for color in ("yellow", "green"):
        expected = {m: expected_rows(stack.s.files_dir, m, color) for m in MONTHS}
        assert postgres_counts(stack, color) == expected


@pytest.mark.timeout(900)
def test_a_dataset_event_triggers_the_bigquery_load_of_its_month(dags_in_db, bucket):
    stack = dags_in_db
    bq = queries.client(settings.GCP_CONN_ID)
    bq.delete_dataset(f"{bq.project}.{stack.s.bq_dataset}", delete_contents=True, not_found_ok=True)
    bigquery_dag = "taxi_gcs_to_bigquery"
    airflow_meta.clear_queue(bigquery_dag)
    for dag_id in ("taxi_web_to_gcs", bigquery_dag):  # the integration tests' runs (and their last success)
        airflow_meta.delete_runs(dag_id)
    for color in ("yellow", "green"):  # and their events: a first Dataset-triggered run gets all of them
        airflow_meta.delete_events(asset_name(assets.monthly_parquet(color)))
    stack.airflow("dags", "unpause", bigquery_dag, quiet=True)  # a paused DAG's runs never start
    started = dt.datetime.now(tz=dt.UTC)
    green = ("-c", json.dumps({"colors": ["green"]}))
    stack.airflow("dags", "backfill", "-s", "2021-02-01", "-e", "2021-02-01", "taxi_web_to_gcs", *green, quiet=True)
    assert airflow_meta.queued_assets(bigquery_dag) == ["taxi_flows.green_tripdata.monthly_parquet"]

    try:
        stack.start_airflow(COMPONENT_ENV, timeout=180)
        wait_for(
            lambda: [r for r in airflow_meta.dag_runs(bigquery_dag, ended_after=started) if r[2] != "running"],
            "the Dataset-triggered run of taxi_gcs_to_bigquery",
            diagnose=lambda: airflow_meta.task_states(bigquery_dag),
        )
        runs = airflow_meta.dag_runs(bigquery_dag, ended_after=started)
        assert [(r[0], r[2]) for r in runs] == [("dataset_triggered", "success")], airflow_meta.task_states(
            bigquery_dag
        )

        # Two other months, the scheduler running: the runs their events trigger load those two only.
        since = dt.datetime.now(tz=dt.UTC)
        stack.airflow("dags", "backfill", "-s", "2021-03-01", "-e", "2021-04-01", "taxi_web_to_gcs", *green, quiet=True)
        wait_for(
            lambda: len(loaded_since(since)) >= 2 and not airflow_meta.queued_assets(bigquery_dag) and idle(),
            "taxi_gcs_to_bigquery on the second backfill's events",
            diagnose=lambda: airflow_meta.task_states(bigquery_dag),
        )
    finally:
        stack.stop_airflow()
        stack.airflow("dags", "pause", bigquery_dag, quiet=True)

    assert sorted(loaded_since(since)) == [("green", "2021-03"), ("green", "2021-04")]
    table = f"{bq.project}.{stack.s.bq_dataset}.green_tripdata"
    months = [r.m for r in bq.query(f"SELECT DISTINCT FORMAT_DATE('%Y-%m', source_month) AS m FROM `{table}`")]
    assert sorted(months) == ["2021-02", "2021-03", "2021-04"]
    for m in ("2021-02", "2021-03", "2021-04"):
        assert queries.month_rows(bq, table, month_start(m)) == expected_rows(stack.s.files_dir, m, "green")


def loaded_since(since: dt.datetime) -> list[tuple[str, str]]:
    """(colour, month) of each month taxi_gcs_to_bigquery loaded (its reconcile's events) since then."""
    return airflow_meta.events_since(asset_name(assets.bigquery_trips()), since)


def idle() -> bool:
    return not [r for r in airflow_meta.dag_runs("taxi_gcs_to_bigquery") if r[2] in ("queued", "running")]
