"""The homework view's period arithmetic and its advice for months not loaded (the figures against
served files: tests/integration/orchestration/test_reconcile.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from taxi_flows.coverage import homework


def load(rows: int, every_row: bool = True) -> dict:
    summary = {"rows_read": rows, "rows_written": rows}
    if every_row:
        summary["rows_clean"] = rows // 2
    return {"summary": summary}


@pytest.mark.depends_on
def test_periods_are_the_sources_months():
    assert homework.quarter_of(dt.date(2020, 11, 1)) == [dt.date(2020, m, 1) for m in (10, 11, 12)]
    assert homework.quarter_of(dt.date(2021, 7, 1)) == [dt.date(2021, m, 1) for m in (7, 8, 9)]  # the TLC's after 07
    assert homework.quarter_of(dt.date(2013, 11, 1), "green") == []  # the TLC's green starts in 2014
    assert homework.quarter_of(dt.date(2999, 1, 1)) == []  # not ended
    assert homework.year_of(dt.date(2021, 3, 1)) == [dt.date(2021, m, 1) for m in range(1, 13)]


@pytest.mark.depends_on
def test_the_view_opens_on_the_latest_month_loaded_with_every_row():
    loads = {("yellow", "2021-02"): load(5), ("green", "2021-02"): load(5), ("yellow", "2021-05"): load(5, False)}
    assert homework.default_period(loads) == ("green", dt.date(2021, 2, 1))
    assert homework.default_period({}) == ("green", dt.date(2020, 10, 1))


@pytest.mark.depends_on("airflow-release")
def test_missing_months_come_with_the_backfill_that_loads_them():
    from taxi_flows.orchestration.compat import AIRFLOW_3, AIRFLOW_VERSION, Version

    loads = {("green", "2020-10"): load(100), ("green", "2020-12"): load(7, every_row=False)}
    fig = homework.Figures(loads)
    answer = fig.total("rows", "green", homework.quarter_of(dt.date(2020, 10, 1)))
    assert answer.value == "100 (1 of 3 months loaded)"
    assert answer.missing == ["2020-11", "2020-12"]  # 2020-12 kept only the cleaned rows: run it again
    if not AIRFLOW_3:
        assert answer.command.startswith("airflow dags backfill taxi_web_to_postgres --start-date 2020-11-01")
        return
    assert answer.command.startswith(
        "airflow backfill create --dag-id taxi_web_to_postgres --from-date 2020-11-01 --to-date 2020-12-01"
    )
    assert answer.command.endswith("--reprocess-behavior completed")
    # Airflow 3.1's CLI cannot pass a run conf; later releases take the colour.
    assert ("--dag-run-conf" in answer.command) == (Version("3.2") <= AIRFLOW_VERSION)
    complete = fig.total("rows", "green", [dt.date(2020, 10, 1)])
    assert (complete.value, complete.missing, complete.command) == ("100", [], None)


@pytest.mark.depends_on
def test_vendor_ids_and_pickup_dates_come_from_the_stored_summaries():
    def stored(dates: list[str], vendors: list) -> dict:
        entry = load(10)
        entry["summary"].update(pickup_dates=dates, clean_vendor_ids=vendors)
        return entry

    loads = {
        ("green", "2020-10"): stored(["2020-09-30", "2020-10-01"], [1, 2]),
        ("green", "2020-11"): stored(["2020-10-01", "2020-11-01"], [2, None]),
        ("green", "2020-12"): load(10),  # loaded by a version that did not store them: its run runs again
    }
    fig = homework.Figures(loads)
    months = homework.quarter_of(dt.date(2020, 10, 1))
    assert fig.union("green", months, "pickup_dates") == ({"2020-09-30", "2020-10-01", "2020-11-01"}, months[2:])
    section = homework.week_2_2024(fig, "green", dt.date(2020, 10, 1))
    answers = {a.question: a for a in section.answers}
    assert answers["vendor ids (after the cleaning)"].value == "1, 2, blank"
    assert answers["pickup-date partitions (lpep_pickup_date values)"].value == "3"
    assert answers["pickup-date partitions (lpep_pickup_date values)"].missing == ["2020-12"]
