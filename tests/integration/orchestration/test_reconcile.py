"""taxi_reconcile through Airflow (dag.test) against the session's PostgreSQL, GCS and BigQuery
emulators: two months of green loaded everywhere reconcile exactly; rows deleted in one target fail
the run, naming the month and the targets, and the stored figures show the difference."""

from __future__ import annotations

import pytest
from support.dagrun import load_dag, log_messages, run

from taxi_flows import settings
from taxi_flows.bigquery import queries
from taxi_flows.coverage import store
from taxi_flows.coverage.counts import grid

pytestmark = pytest.mark.integration
MONTHS = ("2021-01", "2021-02")


@pytest.fixture(scope="module")
def dags(stack):
    return {d: load_dag(stack, d) for d in ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery")}


def stored(pg):
    counts, run_id, _ = store.read_counts(pg)
    return {key: {t: (c.rows, c.files) for t, c in targets.items()} for key, targets in grid(counts).items()}, run_id


@pytest.mark.timeout(900)
def test_two_months_reconcile_and_a_deleted_row_fails_naming_the_month(stack, pg, bucket, dags):
    bq = queries.client(settings.GCP_CONN_ID)
    bq.delete_dataset(f"{bq.project}.{stack.s.bq_dataset}", delete_contents=True, not_found_ok=True)
    runs = {}
    for month in MONTHS:
        for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery"):
            dr, states = run(dags[dag_id], month, ["green"])
            assert dr.state == "success", (dag_id, states)
            runs[(dag_id, month)] = dr.run_id
    reconcile = load_dag(stack, "taxi_reconcile")

    dr, states = run(reconcile, None, [])
    assert dr.state == "success", states
    figures, run_id = stored(pg)
    assert run_id == dr.run_id
    loaded = dict(
        pg.execute("SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM ny_taxi.green_tripdata GROUP BY 1")
    )
    assert sorted(figures) == [("green", m) for m in MONTHS]
    for month in MONTHS:
        targets = figures[("green", month)]
        assert set(targets) == set(store.TARGETS)
        assert {rows for rows, _ in targets.values()} == {loaded[month]}  # exact, and equal everywhere
        assert targets["gcs_dataset"][1] >= 28  # one file per pickup date (and a few out-of-month dates)
    # The loads' summaries, for the page: rows read, removed, kept, and the run.
    loads = store.read_loads(pg, "green")
    assert loads[("green", "2021-02")]["summary"]["rows_kept"] == loaded["2021-02"]
    assert loads[("green", "2021-02")]["run_id"] == runs[("taxi_web_to_postgres", "2021-02")]

    # Rows deleted in one target: the run fails naming the month and the targets; the page shows it.
    pg.execute(
        "DELETE FROM ny_taxi.green_tripdata WHERE ctid IN (SELECT ctid FROM ny_taxi.green_tripdata "
        "WHERE source_month = '2021-02-01' LIMIT 10)"
    )
    with log_messages() as messages:
        dr, states = run(reconcile, None, [])
    assert dr.state == "failed"
    assert states[("count_targets", -1)] == ("failed", 1)  # a mismatch is not retried
    expected = (
        f"green 2021-02: PostgreSQL rows {loaded['2021-02'] - 10:,}, rows in the GCS monthly file {loaded['2021-02']:,}"
    )
    assert any(expected in m for m in messages), messages
    figures, _ = stored(pg)
    assert figures[("green", "2021-02")]["postgres"] == (loaded["2021-02"] - 10, None)
    assert figures[("green", "2021-02")]["bigquery"] == (loaded["2021-02"], None)
