"""The TLC's Parquet files through taxi_web_to_postgres and taxi_web_to_gcs (dag.test), one case per
period layout (and per drift of physical types within one), from the file server's copy of the
TLC's CloudFront: every row reaches both targets, the load names its source; a month the mirror
also has reads the same rows from either source; the conf key source picks one."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.dagrun import load_dag, log_messages, run

from taxi_dev import airflow_meta
from taxi_flows.core import layouts
from taxi_flows.gcs import layout, storage
from taxi_flows.orchestration import assets
from taxi_flows.orchestration.compat import asset_name

pytestmark = [pytest.mark.integration, pytest.mark.depends_on("arrow", "psycopg", "google-clients")]

# Each TLC layout, and the months whose physical types drift within one (taxi_dev.tlc_files.physical).
# The layouts' reading is pyarrow's, and every leg runs it in tests/unit/core/test_parquet_reader.py;
# through the DAGs, two cases run on every leg and the rest on the main one (the CI budget).
MAIN_LEG = pytest.mark.depends_on()
PERIODS = [
    ("yellow", "2009-01"),  # names for codes, times as text, coordinates instead of zones
    pytest.param("yellow", "2010-03", marks=MAIN_LEG),  # pandas' __index_level_0__ as a column
    pytest.param("yellow", "2011-01", marks=MAIN_LEG),
    pytest.param("yellow", "2020-10", marks=MAIN_LEG),  # airport_fee typed null (the mirror has it: source=tlc)
    pytest.param("yellow", "2024-01", marks=MAIN_LEG),  # int32 ids, Airport_fee, large_string flags
    pytest.param("yellow", "2025-11", marks=MAIN_LEG),  # cbd_congestion_fee
    pytest.param("green", "2014-01", marks=MAIN_LEG),
    pytest.param("green", "2019-09", marks=MAIN_LEG),  # ehail_fee typed null
    pytest.param("green", "2025-01", marks=MAIN_LEG),
    pytest.param("fhv", "2015-01", marks=MAIN_LEG),
    ("fhv", "2019-05"),  # location ids as double
    pytest.param("fhv", "2023-02", marks=MAIN_LEG),  # SR_Flag int64
    pytest.param("fhvhv", "2020-02", marks=MAIN_LEG),  # airport_fee typed null
    pytest.param("fhvhv", "2025-01", marks=MAIN_LEG),
]


@pytest.fixture(scope="module")
def dags(stack):
    return {d: load_dag(stack, d) for d in ("taxi_web_to_postgres", "taxi_web_to_gcs")}


def served_rows(stack, color: str, month: str) -> int:
    path = stack.s.files_dir / "trip-data" / f"{color}_tripdata_{month}.parquet"
    return pq.ParquetFile(path).metadata.num_rows


@pytest.mark.parametrize(("color", "month"), PERIODS)
def test_every_period_layout_reaches_postgres_and_gcs(stack, pg, bucket, dags, color, month):
    day = dt.date.fromisoformat(f"{month}-01")
    mirror = layouts.months_of(color, layouts.MIRROR)
    forced = {"source": "tlc"} if mirror and mirror[0] <= day <= mirror[1] else {}
    for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs"):
        dr, states = run(dags[dag_id], month, [color], **forced)
        assert dr.state == "success", (dag_id, states)
    rows = served_rows(stack, color, month)
    n, source = pg.execute(
        "SELECT (summary->>'rows_written')::bigint, summary->>'source_name' FROM ny_taxi.taxi_loads "
        "WHERE color = %s AND source_month = %s",
        [color, day],
    ).fetchone()
    assert (n, source) == (rows, "tlc")
    assert pg.execute(f"SELECT count(*) FROM ny_taxi.{color}_tripdata WHERE source_month = %s", [day]).fetchone() == (
        rows,
    )
    client, name = bucket
    monthly = pq.read_table(pa.BufferReader(storage.download(client, name, layout.monthly_object(color, day))))
    assert monthly.num_rows == rows
    extra = airflow_meta.latest_event_extra(asset_name(assets.monthly_parquet(color)))
    assert extra["source"] == "tlc"
    assert extra["source_url"].endswith(f"/trip-data/{color}_tripdata_{month}.parquet")


def test_a_month_reads_the_same_rows_from_the_mirror_and_from_the_tlc(stack, pg, dags):
    common = "vendor_id, tpep_pickup_datetime, tpep_dropoff_datetime, passenger_count, trip_distance, total_amount"
    digest = f"SELECT count(*), md5(string_agg(row({common})::text, '|' ORDER BY row({common})::text)) "
    digest += "FROM ny_taxi.yellow_tripdata WHERE source_month = '2021-02-01'"
    dr, _ = run(dags["taxi_web_to_postgres"], "2021-02", ["yellow"])  # the mirror has it: the mirror's file
    assert dr.state == "success"
    from_mirror = pg.execute(digest).fetchone()
    loaded_from = (
        "SELECT summary->>'source_name' FROM ny_taxi.taxi_loads WHERE color = 'yellow' AND source_month = '2021-02-01'"
    )
    assert pg.execute(loaded_from).fetchone() == ("datatalksclub",)
    dr, _ = run(dags["taxi_web_to_postgres"], "2021-02", ["yellow"], source="tlc")
    assert dr.state == "success"
    assert pg.execute(loaded_from).fetchone() == ("tlc",)
    assert pg.execute(digest).fetchone() == from_mirror
    assert pg.execute("SELECT count(airport_fee) > 0 FROM ny_taxi.yellow_tripdata").fetchone() == (True,)


def test_the_source_key_picks_a_source_and_refuses_a_month_it_lacks(dags):
    with log_messages() as messages:
        dr, states = run(dags["taxi_web_to_postgres"], "2014-01", ["yellow"], source="datatalksclub")
    assert dr.state == "failed"
    assert states[("wait_until_published", -1)] == ("failed", 1)  # at once, in the first task
    assert any("yellow 2014-01 is not in the datatalksclub source's yellow months" in m for m in messages)


@pytest.mark.timeout(600)
def test_tlc_months_reach_bigquery_with_the_new_columns(stack, bucket, dags):
    """The yellow table as an older version created it, without cbd_congestion_fee: the run adds
    the column (to the table and its clean view) and loads it; fhvhv's table is created with it."""
    from google.cloud import bigquery

    from taxi_flows import settings
    from taxi_flows.bigquery import queries
    from taxi_flows.bigquery.tables import trip_schema_fields

    to_bq = load_dag(stack, "taxi_gcs_to_bigquery")
    bq = queries.client(settings.GCP_CONN_ID)
    dataset = f"{bq.project}.{stack.s.bq_dataset}"
    bq.create_dataset(dataset, exists_ok=True)
    for color in ("yellow", "fhvhv"):
        bq.delete_table(f"{dataset}.{color}_tripdata", not_found_ok=True)
    older = [bigquery.SchemaField.from_api_repr(f) for f in trip_schema_fields("yellow")]
    bq.create_table(bigquery.Table(f"{dataset}.yellow_tripdata", [f for f in older if f.name != "cbd_congestion_fee"]))
    for color, month in (("yellow", "2025-11"), ("fhvhv", "2025-01")):
        dr, states = run(dags["taxi_web_to_gcs"], month, [color])
        assert dr.state == "success", states
        dr, states = run(to_bq, month, [color])
        assert dr.state == "success", states
        table = f"{bq.project}.{stack.s.bq_dataset}.{color}_tripdata"
        fee = next(iter(bq.query(f"SELECT COUNT(cbd_congestion_fee) AS n FROM `{table}`").result()))["n"]
        assert fee > 0
        described = {f.name: f.description for f in bq.get_table(table).schema}
        assert described["cbd_congestion_fee"].startswith("MTA Congestion Relief Zone toll")  # added, described
        day = dt.date.fromisoformat(f"{month}-01")
        assert queries.month_rows(bq, table, day) == served_rows(stack, color, month)
    view = f"{dataset}.yellow_tripdata_clean"
    assert "cbd_congestion_fee" in [f.name for f in bq.get_table(view).schema]


def latest_published() -> str:
    """The latest month the tests' file server has published: three months back (the TLC's delay)."""
    today = dt.datetime.now(dt.UTC).date()
    index = today.year * 12 + today.month - 1 - 3
    return f"{index // 12}-{index % 12 + 1:02d}"


def test_a_month_not_published_yet_waits_without_a_worker_slot_then_loads(stack, pg, dags):
    """The TLC answers 403 (not published yet), then the file: the run's sensor waits in reschedule
    mode and the month loads. (One 403, not two: on Airflow 3.1, dag.test() runs a sensor's second
    reschedule only after some 90 s of "No tasks to run", the slowest integration test of the matrix.)"""
    dag = dags["taxi_web_to_postgres"]
    sensor = dag.get_task("wait_until_published")
    assert sensor.mode == "reschedule"
    assert sensor.poke_interval == 1  # the tests' TAXI_PUBLICATION_POKE_SECONDS (6 hours by default)
    month = latest_published()
    marker = stack.s.files_dir / "trip-data" / f"green_tripdata_{month}.parquet.403"
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text("1")
    try:
        with log_messages() as messages:
            dr, states = run(dag, month, ["green"])
        left = marker.read_text()
    finally:
        marker.unlink(missing_ok=True)
    assert dr.state == "success", states
    assert left == "0"
    waited = [m for m in messages if m.startswith("not published yet")]
    assert len(waited) == 1, messages
    assert f"green {month}: " in waited[0]
    assert f"green_tripdata_{month}.parquet answers 403" in waited[0]
    query = "SELECT count(*) FROM ny_taxi.green_tripdata WHERE source_month = %s"
    assert pg.execute(query, [dt.date.fromisoformat(f"{month}-01")]).fetchone()[0] == served_rows(stack, "green", month)


def test_a_month_still_unpublished_after_the_bound_fails_naming_month_and_url(stack, dags, monkeypatch):
    from taxi_flows import settings

    monkeypatch.setattr(settings, "PUBLICATION_WAIT_DAYS", 0)  # the bound has passed at once
    last = dt.datetime.now(dt.UTC).date().replace(day=1) - dt.timedelta(days=1)  # ended, not published yet
    with log_messages() as messages:
        dr, states = run(dags["taxi_web_to_gcs"], f"{last:%Y-%m}", ["yellow"])
    assert dr.state == "failed"
    assert states[("wait_until_published", -1)][0] == "failed"
    assert states[("yellow_to_gcs", -1)][0] == "upstream_failed"
    expected = f"not published 0 days after the month ended ({dt.datetime.now(dt.UTC):%Y-%m}-01): yellow {last:%Y-%m}: "
    assert any(expected in m and f"yellow_tripdata_{last:%Y-%m}.parquet answers 403" in m for m in messages), messages
