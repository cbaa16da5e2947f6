"""taxi_web_to_postgres through Airflow (dag.test) against the session's PostgreSQL and file server."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import subprocess

import pytest
from support.dagrun import (
    bad_input_params,
    expected_clean,
    good_then_bad,
    gz_csv,
    load_dag,
    log_messages,
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


@pytest.mark.parametrize("bad", bad_input_params())
def test_bad_input_fails_the_task_at_once_and_leaves_the_table_as_it_was(
    dag, pg_as_left, serve, monkeypatch, stack, bad
):
    pg = pg_as_left  # (good_then_bad loads the good month when the table does not hold it)
    bad_run = good_then_bad(dag, serve, monkeypatch, stack.s.source_base_url, bad, lambda: fingerprint(pg, "yellow"))

    assert bad_run.run.state == "failed"
    assert bad_run.logged_the_error(), f"the task log names the problem: {bad_run.messages}"
    if bad == "404":  # the zone lookup fails first, and the trips, which need it, do not start
        assert bad_run.states[("load_zone_lookup", -1)] == ("failed", 1)
        trips = {state for (task, _), (state, _) in bad_run.states.items() if task == "load_trips"}
        assert trips == {"upstream_failed"}, bad_run.states  # not labelled: they never rendered
    else:
        assert bad_run.states[("load_trips", "yellow")] == ("failed", 1)  # no retries: retrying cannot fix it
    assert fingerprint(pg, "yellow") == bad_run.before


def zone_table(pg) -> tuple:
    """The zone table's rows and a digest of their content."""
    return pg.execute(
        "SELECT count(*), md5(string_agg(z::text, '|' ORDER BY z::text)) FROM ny_taxi.taxi_zone_lookup z"
    ).fetchone()


def _edit_zones(lines: list[str], bad: str) -> list[str]:
    if bad == "a zone missing":
        return [line for line in lines if not line.startswith("200,")]
    if bad == "a LocationID repeated":
        return [*lines, lines[7]]
    if bad == "an unknown borough":
        return [lines[0], lines[1].replace('"EWR"', '"Newark"', 1), *lines[2:]]
    if bad == "a zone beyond 265":
        return [*lines, '266,"Queens","Somewhere new","Boro Zone"']
    if bad == "a NUL byte in a name":
        return [lines[0], lines[1].replace("Newark", "New\x00ark"), *lines[2:]]
    raise AssertionError(bad)


ZONE_ERRORS = {
    "a zone missing": r"LocationID missing: 200 \(expected 1 … 265\)",
    "a LocationID repeated": r"LocationID repeated: 7",
    "an unknown borough": r"unknown borough\(s\) Newark \(known: Bronx",
    "a zone beyond 265": r"LocationID not in 1 … 265: 266",
    "a NUL byte in a name": r"a NUL byte in zone of 1 rows",
}


@pytest.mark.depends_on
@pytest.mark.parametrize("bad", list(ZONE_ERRORS))
def test_a_lookup_that_is_not_the_tlcs_replaces_nothing_and_stops_the_trips(dag, pg, serve, files, bad):
    from taxi_dev import sample_data

    header, rows = sample_rows("yellow", "2021-03", 2000)
    serve("yellow", "2021-03", gz_csv(header, rows))
    assert run(dag, "2021-03", ["yellow"])[0].state == "success"
    zones, trips = zone_table(pg), fingerprint(pg, "yellow")
    path = files / "misc" / "taxi_zone_lookup.csv"
    lines = sample_data.write_zones(path).read_text().splitlines()
    path.write_text("\n".join(_edit_zones(lines, bad)) + "\n")
    try:
        with log_messages() as messages:
            dr, states = run(dag, "2021-03", ["yellow"])
    finally:
        path.unlink()  # the file server makes the good one again
    assert dr.state == "failed"
    assert states[("load_zone_lookup", -1)] == ("failed", 1)  # at once: no retry fixes the file
    assert {state for (task, _), (state, _) in states.items() if task == "load_trips"} == {"upstream_failed"}
    said = [m for m in messages if m.startswith("taxi zone lookup: it is not the TLC's lookup")]
    assert said, messages
    assert re.search(ZONE_ERRORS[bad], said[0]), said[0]
    assert "this run's load_trips do not start" in said[0]
    assert zone_table(pg) == zones  # the old, good lookup, row for row
    assert fingerprint(pg, "yellow") == trips


@pytest.mark.depends_on
def test_a_signed_base_url_loads(dag, pg, serve, monkeypatch, stack):
    """A base URL with a query string (a signed URL): the file's path goes before the query."""
    header, rows = sample_rows("green", "2021-03", 1000)
    serve("green", "2021-03", gz_csv(header, rows))
    monkeypatch.setenv("AIRFLOW_VAR_TAXI_SOURCE_BASE_URL", f"{stack.s.source_base_url}/?token=s3cr3t-value")
    with log_messages() as messages:
        dr, states = run(dag, "2021-03", ["green"])
    assert dr.state == "success", states
    assert counts(pg, "green") == {"2021-03": len(rows)}
    assert not [m for m in messages if "s3cr3t-value" in m]


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
