"""taxi_gcs_to_bigquery and check_connections through Airflow (dag.test), against the session's GCS and
BigQuery emulators, with the google provider's operators and hooks."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import warnings

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.dagrun import expected_clean, gz_csv, load_dag, log_messages, run, sample_rows

from taxi_dev import airflow_meta
from taxi_dev.settings import StackSettings
from taxi_flows import settings
from taxi_flows.bigquery import queries
from taxi_flows.bigquery.tables import CLUSTER_BY, trip_schema_fields
from taxi_flows.core.schema import trip_schema
from taxi_flows.gcs import storage
from taxi_flows.orchestration import bigquery_tasks

pytestmark = pytest.mark.integration

PROJECT, DATASET = StackSettings.gcp_project, StackSettings.bq_dataset  # the stack's defaults


@pytest.fixture(scope="module")
def to_bq(stack):
    return load_dag(stack, "taxi_gcs_to_bigquery")


@pytest.fixture(scope="module")
def to_gcs(stack):
    return load_dag(stack, "taxi_web_to_gcs")


@pytest.fixture(scope="module")
def checks(stack):
    return load_dag(stack, "check_connections")


@pytest.fixture
def bq(stack):
    """The BigQuery client of the hook, the dataset dropped first."""
    client = queries.client(settings.GCP_CONN_ID)
    client.delete_dataset(f"{PROJECT}.{DATASET}", delete_contents=True, not_found_ok=True)
    return client


def month_counts(bq, color: str) -> dict[str, int]:
    rows = bq.query(
        f"SELECT source_month, COUNT(*) AS n FROM `{PROJECT}.{DATASET}.{color}_tripdata` GROUP BY 1"
    ).result()
    return {f"{r.source_month:%Y-%m}": r.n for r in rows}


def parquet_rows(client, bucket: str, color: str, month: str) -> int:
    data = storage.download(client, bucket, f"{color}/{color}_tripdata_{month}.parquet")
    return pq.read_metadata(pa.BufferReader(data)).num_rows


def load_gcs(to_gcs, serve, month: str, n=300, colors=("yellow", "green"), edit=None) -> dict[str, tuple]:
    """Serve sample files of the month and run taxi_web_to_gcs; {colour: (header, rows)} served (300 rows:
    the BigQuery emulator's time grows with them, and what these tests check does not)."""
    served = {}
    for color in colors:
        header, rows = sample_rows(color, month, n)
        if edit:
            edit(header, rows)
        serve(color, month, gz_csv(header, rows))
        served[color] = (header, rows)
    dr, states = run(to_gcs, month, colors)
    assert dr.state == "success", states
    return served


def test_a_month_of_each_colour_loaded_partitioned_and_described(to_gcs, to_bq, bucket, bq, serve):
    client, name = bucket
    served = load_gcs(to_gcs, serve, "2021-01")

    with warnings.catch_warnings(record=True) as caught, log_messages() as logged:
        warnings.simplefilter("always")
        dr, states = run(to_bq, "2021-01")

    assert dr.state == "success", states
    # No deprecation warning of the bundle's own calls: its modules', or the provider's about how
    # the bundle calls it (use_legacy_sql's default, BigQueryInsertJobOperator's job_id_path XCom).
    assert [
        f"{w.category.__name__} {w.filename}:{w.lineno}: {w.message}"
        for w in caught
        if issubclass(w.category, DeprecationWarning) and re.search(r"taxi_flows|/dags/|providers/google", w.filename)
    ] == []
    # The MERGE says what it did.
    merges = [m for m in logged if "MERGE into" in m]
    assert len(merges) == 2, logged
    assert all(re.search(r"deleted \d+ rows .* inserted [\d,]+ ", m) for m in merges), merges
    # The UI labels each mapped task of a month by its colour and month.
    labels = {key for task_id, key in states if task_id.startswith("load_month.")}
    assert labels == {"green 2021-01", "yellow 2021-01"}
    for color in ("yellow", "green"):
        sch = trip_schema(color)
        header, rows = served[color]
        # Every row of the file; the course's cleaning is the view beside the table.
        assert parquet_rows(client, name, color, "2021-01") == len(rows)
        assert month_counts(bq, color) == {"2021-01": len(rows)}
        clean = bq.query(f"SELECT COUNT(*) AS n FROM `{PROJECT}.{DATASET}.{sch.clean_view}`").result()
        assert next(iter(clean)).n == expected_clean(rows, header) < len(rows)
        assert bq.get_table(f"{PROJECT}.{DATASET}.{sch.clean_view}").table_type == "VIEW"
        table = bq.get_table(f"{PROJECT}.{DATASET}.{color}_tripdata")
        assert table.time_partitioning.type_ == "DAY"
        assert table.time_partitioning.field == sch.pickup_date
        assert table.clustering_fields == list(CLUSTER_BY)
        assert [(f.name, f.field_type) for f in table.schema] == [
            (f["name"], {"INT64": "INTEGER", "FLOAT64": "FLOAT"}.get(f["type"], f["type"]))
            for f in trip_schema_fields(color)
        ]
        assert all(f.description for f in table.schema)
        assert not any(t.table_id.startswith("_staging") for t in bq.list_tables(f"{PROJECT}.{DATASET}"))
    zones = bq.query(f"SELECT COUNT(*) AS n FROM `{PROJECT}.{DATASET}.taxi_zone_lookup`").result()
    assert next(iter(zones)).n == 265
    # (A re-run leaving the same rows: the next test, which re-loads a month beside another.)


def test_two_months_load_independently_with_out_of_month_pickups(to_gcs, to_bq, bucket, bq, serve):
    client, name = bucket

    def late_january(header, rows):
        pickup = header.index("tpep_pickup_datetime")
        for i in range(0, 200, 20):
            rows[i][pickup] = dt.datetime(2021, 1, 31, 22, 0, 0)

    load_gcs(to_gcs, serve, "2021-01", colors=["yellow"])
    # 2,000 rows: the 10 late ones stay within the share of out-of-month pickups a month may have.
    load_gcs(to_gcs, serve, "2021-02", n=2000, colors=["yellow"], edit=late_january)
    assert run(to_bq, "2021-01", ["yellow"])[0].state == "success"
    assert run(to_bq, "2021-02", ["yellow"])[0].state == "success"
    expected = {m: parquet_rows(client, name, "yellow", m) for m in ("2021-01", "2021-02")}
    assert month_counts(bq, "yellow") == expected
    late = bq.query(
        f"SELECT COUNT(*) AS n FROM `{PROJECT}.{DATASET}.yellow_tripdata` "
        "WHERE source_month = '2021-02-01' AND tpep_pickup_date = '2021-01-31'"
    ).result()
    assert next(iter(late)).n >= 5

    # Re-loading January touches neither February's rows nor their January pickups.
    assert run(to_bq, "2021-01", ["yellow"])[0].state == "success"
    assert month_counts(bq, "yellow") == expected


def test_a_parquet_with_a_wrong_schema_fails_and_changes_nothing(to_gcs, to_bq, bucket, bq, serve):
    client, name = bucket
    load_gcs(to_gcs, serve, "2021-03", colors=["green"])
    assert run(to_bq, "2021-03", ["green"])[0].state == "success"
    before = month_counts(bq, "green")

    table = pq.read_table(pa.BufferReader(storage.download(client, name, "green/green_tripdata_2021-03.parquet")))
    wrong = table.set_column(table.schema.get_field_index("ehail_fee"), "ehail_fee", pa.array(["n/a"] * table.num_rows))
    out = io.BytesIO()
    pq.write_table(wrong, out)
    client.bucket(name).blob("green/green_tripdata_2021-03.parquet").upload_from_string(out.getvalue())

    dr, states = run(to_bq, "2021-03", ["green"])

    assert dr.state == "failed"
    assert states[("load_month.load_staging", "green 2021-03")] == ("failed", 1)  # rejected by BigQuery: no retries
    assert states[("load_month.replace_month", 0)][0] == "upstream_failed"
    assert month_counts(bq, "green") == before
    assert not any(t.table_id.startswith("_staging") for t in bq.list_tables(f"{PROJECT}.{DATASET}"))


def test_a_month_written_to_gcs_queues_the_bigquery_dag_and_its_events_plan_that_month(to_gcs, to_bq, bucket, serve):
    """The Asset wiring: taxi_web_to_gcs's event queues taxi_gcs_to_bigquery (Airflow's own asset
    manager); the run it starts plans exactly the months of its triggering events."""
    bigquery_dag = "taxi_gcs_to_bigquery"
    airflow_meta.clear_queue(bigquery_dag)
    airflow_meta.set_paused(bigquery_dag, False)  # a paused DAG is not queued: DAGs start paused
    try:
        load_gcs(to_gcs, serve, "2021-04", colors=["yellow"])
    finally:
        airflow_meta.set_paused(bigquery_dag, True)

    assert airflow_meta.queued_assets(bigquery_dag) == ["taxi_flows.yellow_tripdata.monthly_parquet"]
    extra = airflow_meta.latest_event_extra("taxi_flows.yellow_tripdata.monthly_parquet")

    class Event:  # what triggering_asset_events holds: events with their extra and time
        def __init__(self, extra):
            self.extra, self.timestamp = extra, dt.datetime.now(tz=dt.UTC)

    plan = bigquery_tasks.bigquery_plan(bucket[1], DATASET, ["yellow", "green"], None, {"yellow": [Event(extra)]})
    assert [(p["color"], p["month"], p["source_uri"], p["expected_rows"]) for p in plan] == [
        ("yellow", "2021-04", f"gs://{bucket[1]}/yellow/yellow_tripdata_2021-04.parquet", extra["rows"])
    ]


def test_the_connection_check_passes_on_the_stack(checks):
    dr, states = run(checks, dt.datetime.now(tz=dt.UTC).date().isoformat())
    assert dr.state == "success", states


@pytest.mark.parametrize(
    ("variable", "value", "task", "message"),
    [
        (
            "AIRFLOW_CONN_TAXI_POSTGRES",
            "postgresql://postgres@127.0.0.1:{port}/taxi",
            "check_postgres",
            r"PostgreSQL: Nothing listens at 127\.0\.0\.1:\d+/taxi: is PostgreSQL running",
        ),
        (
            "BIGQUERY_EMULATOR_HOST",
            "http://127.0.0.1:{port}",
            "check_bigquery",
            r"BigQuery: Nothing answers at http://127\.0\.0\.1:\d+ \(BIGQUERY_EMULATOR_HOST\)",
        ),
        (
            "STORAGE_EMULATOR_HOST",
            "http://127.0.0.1:{port}",
            "check_gcs",
            r"GCS: Nothing answers at http://127\.0\.0\.1:\d+ \(STORAGE_EMULATOR_HOST\)",
        ),
    ],
)
def test_the_connection_check_fails_fast_and_clearly_when_a_service_is_down(
    checks, monkeypatch, variable, value, task, message
):
    from taxi_dev.settings import free_port

    monkeypatch.setenv(variable, value.format(port=free_port()))  # nothing listens there
    started = time.monotonic()
    with log_messages() as messages:
        dr, states = run(checks, dt.datetime.now(tz=dt.UTC).date().isoformat())
    assert time.monotonic() - started < 60
    assert dr.state == "failed"
    assert states[(task, -1)] == ("failed", 1)
    assert [s for (t, _), (s, _) in states.items() if t != task] == ["success", "success"]
    assert any(re.search(message, m) for m in messages), messages
