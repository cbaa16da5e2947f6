"""taxi_web_to_postgres through Airflow (dag.test) against the session's PostgreSQL and file server."""

from __future__ import annotations

import datetime as dt
import gzip
import subprocess

import pytest
from support.dagrun import (
    BAD_INPUTS,
    expected_clean,
    good_then_bad,
    gz_csv,
    load_dag,
    raw_quirks,
    run,
    sample_rows,
)

from taxi_flows.core.schema import trip_schema

pytestmark = pytest.mark.integration

DAG_ID = "taxi_web_to_postgres"


@pytest.fixture(scope="module")
def dag(stack):
    return load_dag(stack, DAG_ID)


def counts(pg, color: str) -> dict[str, int]:
    rows = pg.execute(f"SELECT source_month, count(*) FROM ny_taxi.{color}_tripdata GROUP BY 1").fetchall()
    return {f"{m:%Y-%m}": n for m, n in rows}


def fingerprint(pg, color: str) -> list[tuple]:
    """Per source_month: row count and a digest of every row's content."""
    return pg.execute(
        f"SELECT source_month, count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) "
        f"FROM ny_taxi.{color}_tripdata t GROUP BY 1 ORDER BY 1"
    ).fetchall()


def test_a_month_of_both_colours_with_every_row_and_the_clean_view(dag, pg, serve):
    files = {}
    for color, n in (("yellow", 5000), ("green", 3000)):
        header, rows = sample_rows(color, "2021-01", n)
        files[color] = (header, rows, serve(color, "2021-01", gz_csv(header, rows)))

    dr, states = run(dag, "2021-01")

    assert dr.state == "success", states
    assert states[("load_trips", "yellow")] == ("success", 1)
    assert states[("load_trips", "green")] == ("success", 1)
    for color, (header, rows, path) in files.items():
        sch = trip_schema(color)
        # Every row of the file, the blank tail and the zeros included ...
        assert counts(pg, color) == {"2021-01": len(rows)}
        quirks = raw_quirks(rows, header)
        assert min(quirks.values()) > 0, quirks  # the sample has each kind
        in_table = pg.execute(
            f"SELECT count(*) FILTER (WHERE passenger_count IS NULL), count(*) FILTER (WHERE passenger_count = 0), "
            f"count(*) FILTER (WHERE trip_distance = 0) FROM ny_taxi.{color}_tripdata"
        ).fetchone()
        assert in_table == tuple(quirks.values())
        bad = pg.execute(
            f"SELECT count(*) FROM ny_taxi.{color}_tripdata "
            f"WHERE {sch.pickup_date} <> {sch.pickup_datetime}::date OR source_month <> DATE '2021-01-01'"
        ).fetchone()[0]
        assert bad == 0
        # ... and the course's cleaning, one query away: exactly the rows the old loads kept.
        clean = pg.execute(f"SELECT count(*) FROM ny_taxi.{color}_tripdata_clean").fetchone()[0]
        assert clean == expected_clean(rows, header) < len(rows)
        # The load's summary (as stored for the coverage page): the source's facts, what the cleaning removes.
        summary = pg.execute(
            "SELECT summary FROM ny_taxi.taxi_loads WHERE color = %s AND source_month = '2021-01-01'", [color]
        ).fetchone()[0]
        data = path.read_bytes()
        assert summary["rows_read"] == summary["rows_written"] == len(rows)
        assert summary["rows_clean"] == clean
        assert (
            summary["cleaning_removes_passenger_count"]
            == quirks["blank_passenger_count"] + quirks["zero_passenger_count"]
        )
        assert summary["source_bytes"] == len(data)
        assert summary["source_uncompressed_bytes"] == len(gzip.decompress(data))
        assert summary["source_url"].endswith(f"/{color}/{color}_tripdata_2021-01.csv.gz")
        assert summary["source_last_modified"]
        assert summary["source_etag"]
    assert pg.execute("SELECT count(*) FROM ny_taxi.taxi_zone_lookup").fetchone()[0] == 265
    # One partition per source month, every column described.
    partitions = pg.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'ny_taxi.yellow_tripdata'::regclass"
    ).fetchall()
    assert partitions == [("yellow_tripdata_2021_01",)]
    undocumented = pg.execute(
        "SELECT a.attname FROM pg_attribute a WHERE a.attrelid = 'ny_taxi.green_tripdata'::regclass "
        "AND a.attnum > 0 AND NOT a.attisdropped AND col_description(a.attrelid, a.attnum) IS NULL"
    ).fetchall()
    assert undocumented == []

    # A re-run replaces the month: the same rows, no duplicates.
    before = fingerprint(pg, "yellow")
    dr, states = run(dag, "2021-01", colors=["yellow"])
    assert dr.state == "success", states
    assert states[("load_trips", "green")][0] == "skipped"  # not in params.colors
    assert fingerprint(pg, "yellow") == before


def test_two_months_with_overlapping_pickups_load_and_rerun_independently(dag, pg, serve):
    header, jan = sample_rows("yellow", "2021-01", 3000)
    _, feb = sample_rows("yellow", "2021-02", 3000)
    pickup = header.index("tpep_pickup_datetime")
    for i in range(0, 300, 15):  # late records (under the 1 % check): February holds January pickups
        feb[i][pickup] = dt.datetime(2021, 1, 31, 23, 0, 0) - dt.timedelta(minutes=i)
    serve("yellow", "2021-01", gz_csv(header, jan))
    serve("yellow", "2021-02", gz_csv(header, feb))

    assert run(dag, "2021-01", ["yellow"])[0].state == "success"
    assert run(dag, "2021-02", ["yellow"])[0].state == "success"
    loaded = counts(pg, "yellow")
    assert loaded == {"2021-01": len(jan), "2021-02": len(feb)}
    january_pickups = dict(
        pg.execute(
            "SELECT source_month, count(*) FROM ny_taxi.yellow_tripdata "
            "WHERE tpep_pickup_date BETWEEN '2021-01-01' AND '2021-01-31' GROUP BY 1"
        ).fetchall()
    )
    assert january_pickups[dt.date(2021, 2, 1)] >= 10  # both months hold January pickups

    before = fingerprint(pg, "yellow")
    assert run(dag, "2021-01", ["yellow"])[0].state == "success"
    assert run(dag, "2021-02", ["yellow"])[0].state == "success"
    assert fingerprint(pg, "yellow") == before


@pytest.mark.parametrize("bad", list(BAD_INPUTS))
def test_bad_input_fails_the_task_at_once_and_leaves_the_table_as_it_was(dag, pg, serve, monkeypatch, stack, bad):
    bad_run = good_then_bad(dag, serve, monkeypatch, stack.s.source_base_url, bad, lambda: fingerprint(pg, "yellow"))

    assert bad_run.run.state == "failed"
    assert bad_run.logged_the_error(), f"the task log names the problem: {bad_run.messages}"
    assert bad_run.states[("load_trips", "yellow")] == ("failed", 1)  # no retries: retrying cannot fix the source
    assert fingerprint(pg, "yellow") == bad_run.before


def test_airflow_dags_test_from_the_readme_loads_january_2021(stack, pg):
    """The README's command, in a shell that sourced the stack's env file."""
    env_file = stack.s.state_dir / "env.sh"
    result = subprocess.run(
        ["bash", "-c", f"source {env_file} && airflow dags test {DAG_ID} 2021-01-01"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert set(counts(pg, "yellow")) == {"2021-01"}
    assert set(counts(pg, "green")) == {"2021-01"}
