"""taxi_reconcile through Airflow (dag.test) against the session's PostgreSQL, GCS and BigQuery
emulators: two months of green loaded everywhere reconcile exactly; rows deleted in one target fail
the run, naming the month and the targets, and the stored figures show the difference."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from support.dagrun import load_dag, log_messages, run
from support.e2e import served_counts

from taxi_flows import settings
from taxi_flows.bigquery import queries
from taxi_flows.coverage import store
from taxi_flows.coverage.counts import grid
from taxi_flows.gcs import manifest

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
    # The loads' summaries, for the page: rows read and written (every row), the cleaning's, the run.
    loads = store.read_loads(pg, "green")
    assert loads[("green", "2021-02")]["summary"]["rows_written"] == loaded["2021-02"]
    assert loads[("green", "2021-02")]["run_id"] == runs[("taxi_web_to_postgres", "2021-02")]
    # The dataset's manifests record the source file's facts; the count keeps them for the page.
    dataset = {c.month: c.source for c in store.read_counts(pg)[0] if c.target == "gcs_dataset"}
    for month in MONTHS:
        assert dataset[month]["source_bytes"] == loads[("green", month)]["summary"]["source_bytes"] > 0
        assert dataset[month]["source_url"].endswith(f"/green/green_tripdata_{month}.csv.gz")

    # Rows deleted in one target: the run fails naming the month and the targets; the page shows it.
    pg.execute(
        "DELETE FROM ny_taxi.green_tripdata WHERE source_month = '2021-02-01' AND ctid IN "
        "(SELECT ctid FROM ny_taxi.green_tripdata WHERE source_month = '2021-02-01' LIMIT 10)"
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
    if page_client() is not None:
        grid = page_client().get("/").text
        assert f'<td class="bad" data-cell="green 2021-02 postgres">{loaded["2021-02"] - 10:,}</td>' in grid
        assert f'<td class="ok" data-cell="green 2021-01 postgres">{loaded["2021-01"]:,}</td>' in grid
        assert "files)</td>" in grid
        # A month without a PostgreSQL load shows the facts the GCS load recorded.
        pg.execute("DELETE FROM ny_taxi.taxi_loads WHERE source_month = '2021-01-01'")
        month = page_client().get("/month/green/2021-01").text
        assert "As the pickup-date dataset's manifest in GCS records its load" in month
        compressed = dataset["2021-01"]["source_bytes"]
        assert f"<th class='l'>bytes (compressed, as downloaded)</th><td>{compressed:,}" in month


@pytest.mark.timeout(900)
def test_a_month_that_vanishes_from_a_target_fails_reconcile_naming_it(stack, pg, bucket, dags):
    """A PostgreSQL partition detached, a dataset file deleted, a BigQuery month deleted: each month
    a target had and no longer has fails the run, naming the month and the target."""
    client, name = bucket
    bq = queries.client(settings.GCP_CONN_ID)
    table = f"{bq.project}.{stack.s.bq_dataset}.green_tripdata"
    bq.delete_dataset(f"{bq.project}.{stack.s.bq_dataset}", delete_contents=True, not_found_ok=True)
    reconcile = load_dag(stack, "taxi_reconcile")
    for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery"):
        assert run(dags[dag_id], "2021-03", ["green"])[0].state == "success"
    assert run(reconcile, None, [])[0].state == "success"
    rows = pg.execute("SELECT count(*) FROM ny_taxi.green_tripdata WHERE source_month = '2021-03-01'").fetchone()[0]

    pg.execute("ALTER TABLE ny_taxi.green_tripdata DETACH PARTITION ny_taxi.green_tripdata_2021_03")
    committed = manifest.read(client, name, "green", "2021-03")[0]
    gone = sorted(committed.names())[0]
    client.bucket(name).blob(gone).delete()
    bq.query(f"DELETE FROM `{table}` WHERE source_month = '2021-03-01'").result()
    with log_messages() as messages:
        dr, _ = run(reconcile, None, [])
    assert dr.state == "failed"
    text = " ".join(messages)
    assert "green 2021-03: PostgreSQL rows none, though run " in text
    assert f"loaded {rows:,}" in text
    assert f"green 2021-03: BigQuery rows none, {rows:,} at the last count" in text
    assert f"of the {len(committed.names())} files its manifest commits are missing" in text
    assert f"gs://{name}/{gone}" in text


def page_client(signed_in: bool = True):
    """The coverage page's app over ASGI (Airflow 3.1+), as the api-server serves it; with the
    token cookie the UI holds for a signed-in user (Airflow's auth manager signs it) if asked."""
    from taxi_flows.coverage.page import plugin_parts

    apps, _ = plugin_parts()
    if not apps:
        return None
    from airflow.api_fastapi.app import create_auth_manager, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    create_auth_manager()
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="test", role="admin"))
    return TestClient(apps[0]["app"], cookies={"_token": token} if signed_in else None)


def test_the_page_shows_a_month_its_source_checks_rows_and_the_homework(stack, pg, dags, files):
    client = page_client()
    if client is None:
        pytest.skip("the coverage page is an Airflow 3.1+ plugin (the README says how to read the tables on 2.10)")
    assert page_client(signed_in=False).get("/").status_code == 401  # an Airflow user only
    assert page_client(signed_in=False).get("/", headers={"Authorization": "Bearer forged"}).status_code == 403
    for month in ("2021-01", "2021-02", "2021-03"):
        dr, states = run(dags["taxi_web_to_postgres"], month, ["green"])
        assert dr.state == "success", states
    served = {m: served_counts(files, m, "green") for m in ("2021-01", "2021-02", "2021-03")}

    page = client.get("/month/green/2021-03")
    assert page.status_code == 200
    march = served["2021-03"]
    assert f"<th class='l'>rows written (every row)</th><td>{march['rows']:,}</td>" in page.text
    clean_row = f"rows after the cleaning (the view &lt;color&gt;_tripdata_clean)</th><td>{march['clean']:,}</td>"
    assert clean_row in page.text
    assert f"<th class='l'>bytes uncompressed</th><td>{march['uncompressed_bytes']:,} (" in page.text
    assert "/green/green_tripdata_2021-03.csv.gz</td>" in page.text
    assert "<th class='l'>ETag</th><td>&#34;" in page.text
    assert "a dropoff before the pickup" in page.text
    assert "rows the course&#39;s cleaning keeps" in page.text
    assert ">pass</td>" in page.text
    assert ">fail</td>" not in page.text
    assert page.text.count("<tr><td>") == 20  # the preview's first rows
    assert dr.run_id in page.text

    def answer(html: str, question: str) -> str:
        row = re.search(rf"<th class='l'>{re.escape(str(escape(question)))}</th><td class='l'>(.*?)</td>", html)
        assert row, f"{question!r} not on the page"
        return row[1]

    # Without parameters the view opens on the latest month loaded; its figures are the served files'.
    homework = client.get("/homework").text
    assert "Homework: green 2021-03" in homework
    quarter = sum(c["rows"] for c in served.values())
    assert answer(homework, "rows") == f"{quarter:,}"
    cleaning = "rows after the course's cleaning (passenger_count > 0 and trip_distance > 0)"
    assert answer(homework, cleaning) == f"{sum(c['clean'] for c in served.values()):,}"
    assert answer(homework, "vendor ids (after the cleaning)") == ", ".join(
        str(v) for v in sorted(set().union(*(c["clean_vendors"] for c in served.values())))
    )
    dates = set().union(*(c["pickup_dates"] for c in served.values()))
    assert answer(homework, "pickup-date partitions (lpep_pickup_date values)") == f"{len(dates):,}"
    assert "VendorID → vendor_id" in answer(homework, "columns renamed to snake_case")
    assert answer(homework, "rows of green 2021-03") == f"{march['rows']:,}"
    size = march["uncompressed_bytes"]
    assert answer(homework, "uncompressed size of green_tripdata_2021-03.csv") == (
        f"{size:,} bytes ({size / 2**20:.1f} MiB)"
    )
    assert answer(homework, "rendered file name of green 2021-03") == "green_tripdata_2021-03.csv"
    # A period not all loaded names its missing months and the command that loads them.
    year = answer(homework, "rows of green 2021")
    assert year.startswith(f"{quarter:,} (3 of 12 months loaded)")  # the TLC has 2021-08 … 12
    assert "not loaded: 2021-04, 2021-05, 2021-06, 2021-07, 2021-08" in year
    assert "--dag-id taxi_web_to_postgres --from-date 2021-04-01 --to-date 2021-12-01" in year
    module_4 = answer(homework, "green rows, 2019–2020")
    assert module_4.startswith("0 (0 of 24 months loaded)")
    assert "--from-date 2019-01-01 --to-date 2020-12-01" in module_4

    # The 2024 homework's own period, not loaded: every figure says what to load.
    q4 = client.get("/homework", params={"color": "green", "quarter": "2020-Q4"}).text
    assert "not loaded: 2020-10, 2020-11, 2020-12" in answer(q4, "rows")
    assert "is outside the source" in client.get("/homework", params={"month": "2999-08"}).text
    for bad in ("/month/green/2021-13", "/month/yellow/0000-01", "/month/purple/2021-01", "/homework?quarter=2020-Q5"):
        response = client.get(bad)  # a bad month, colour or quarter: a 400 that says what to ask, never a 500
        assert response.status_code == 400, (bad, response.text)
        assert "ask for" in response.text
