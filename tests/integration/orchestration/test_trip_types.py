"""fhv and fhvhv, the for-hire trip types, through every workflow (dag.test) against the session's
PostgreSQL, GCS and BigQuery emulators: every row of the mirror's files, the files' names mapped onto
the types' tables, a column the mirror's layout does not fill NULL, the counts reconciled; a type
asked for before its first month fails at once, naming its months."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.dagrun import gz_csv, load_dag, log_messages, run, sample_rows

from taxi_flows import settings
from taxi_flows.bigquery import queries
from taxi_flows.coverage import store
from taxi_flows.coverage.counts import grid
from taxi_flows.gcs import layout, storage

pytestmark = [pytest.mark.integration, pytest.mark.depends_on("arrow", "psycopg", "google-clients", "airflow")]
MONTH = "2019-02"
DAG_IDS = ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery")


@pytest.fixture(scope="module")
def dags(stack):
    return {d: load_dag(stack, d) for d in (*DAG_IDS, "taxi_daily_trips_to_gcs", "taxi_reconcile")}


@pytest.mark.timeout(900)
def test_fhv_and_fhvhv_reach_every_target_with_every_row(stack, pg, bucket, dags, serve):
    bq = queries.client(settings.GCP_CONN_ID)
    bq.delete_dataset(f"{bq.project}.{stack.s.bq_dataset}", delete_contents=True, not_found_ok=True)
    served = {}
    for color, n in (("fhv", 4000), ("fhvhv", 3000)):
        header, rows = sample_rows(color, MONTH, n)
        serve(color, MONTH, gz_csv(header, rows))
        served[color] = (header, rows)
    for dag_id in DAG_IDS:
        dr, states = run(dags[dag_id], MONTH, ["fhv", "fhvhv"])
        assert dr.state == "success", (dag_id, states)
        assert not any(key[0].startswith(("yellow", "green")) and s == "success" for key, (s, _) in states.items())

    client, bucket = bucket
    for color, (header, rows) in served.items():
        # PostgreSQL: every row, the mirror's names mapped (dropOff_datetime, PUlocationID), no clean view.
        n, _, dropoffs, blank_ids = pg.execute(
            f"SELECT count(*), count(pu_location_id), count(dropoff_datetime), count(*) - count(pu_location_id) "
            f"FROM ny_taxi.{color}_tripdata WHERE source_month = '{MONTH}-01'"
        ).fetchone()
        pu = header.index("PUlocationID" if color == "fhv" else "PULocationID")
        assert n == len(rows)
        assert blank_ids == sum(1 for r in rows if r[pu] is None)
        assert dropoffs == n
        assert pg.execute("SELECT to_regclass(%s)", [f"ny_taxi.{color}_tripdata_clean"]).fetchone()[0] is None
        by_day = pg.execute(
            f"SELECT count(*) FROM ny_taxi.{color}_tripdata WHERE pickup_date <> pickup_datetime::date"
        ).fetchone()[0]
        assert by_day == 0
        # GCS: the monthly file and the dataset by pickup_date.
        monthly = pq.read_table(pa.BufferReader(storage.download(client, bucket, layout.monthly_object(color, _m()))))
        assert monthly.num_rows == len(rows)
        assert "pickup_date" in monthly.column_names
        names = [b.name for b in client.list_blobs(bucket, prefix=f"{color}_tripdata/pickup_date=2019-02-")]
        assert len(names) == 28
        # BigQuery: the month, partitioned by pickup_date.
        table = bq.get_table(f"{bq.project}.{stack.s.bq_dataset}.{color}_tripdata")
        assert table.time_partitioning.field == "pickup_date"
        assert queries.month_rows(bq, table.full_table_id.replace(":", "."), _m()) == len(rows)
    # fhvhv's columns the mirror's layout does not have are NULL; fhv's sr_flag kept as published.
    assert pg.execute("SELECT count(trip_miles), count(hvfhs_license_num) FROM ny_taxi.fhvhv_tripdata").fetchone() == (
        0,
        3000,
    )

    # The daily export of a day of fhvhv, and taxi_reconcile over the four types.
    dr, states = run(dags["taxi_daily_trips_to_gcs"], "2019-02-10", ["fhvhv"])
    assert dr.state == "success", states
    dr, states = run(dags["taxi_reconcile"], None, [])
    assert dr.state == "success", states
    figures = {key: {t: c.rows for t, c in targets.items()} for key, targets in grid(store.read_counts(pg)[0]).items()}
    for color, (_, rows) in served.items():
        assert set(figures[(color, MONTH)].values()) == {len(rows)}, figures[(color, MONTH)]

    # The source replaced at the same URL (a new ETag and Last-Modified): taxi_reconcile says so.
    header, rows = sample_rows("fhv", MONTH, 4001)
    serve("fhv", MONTH, gz_csv(header, rows))
    with log_messages() as messages:
        dr, states = run(dags["taxi_reconcile"], None, [])
    assert dr.state == "failed", states
    expected = "1 source file(s) replaced since their load: fhv 2019-02: "
    assert any(expected in m and "run the month again" in m for m in messages), messages


def test_a_type_before_its_first_month_fails_at_once_naming_its_months(dags):
    with log_messages() as messages:
        dr, states = run(dags["taxi_web_to_postgres"], "2019-01", ["yellow", "fhvhv"])
    assert dr.state == "failed"
    assert states[("wait_until_published", -1)] == ("failed", 1)  # at once, in the first task: no retry
    loads = {state for (task, _), (state, _) in states.items() if task == "load_trips"}
    assert loads == {"upstream_failed"}  # nothing is written, yellow neither: the run asked for fhvhv too
    expected = "fhvhv 2019-01 is not in either source's fhvhv months (datatalksclub: 2019-02 … 2021-07; tlc: 2019-02 …"
    assert any(expected in m for m in messages), messages


def _m():
    return dt.date(2019, 2, 1)
