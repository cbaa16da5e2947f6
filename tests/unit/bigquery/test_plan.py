"""Which months a taxi_gcs_to_bigquery run loads, and with what arguments: the pure plan
(taxi_flows.bigquery.plan), and the task around it where it turns the plan's verdicts into
Airflow's (a failure)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from taxi_flows.bigquery import plan
from taxi_flows.orchestration import bigquery_tasks
from taxi_flows.orchestration.compat import AirflowFailException


@dataclass
class Event:  # what Airflow hands a task: an event's extra and its time
    extra: dict
    timestamp: dt.datetime


def event(color: str, month: str, minute: int, rows: int = 1) -> Event:
    return Event({"color": color, "month": month, "rows": rows}, dt.datetime(2026, 1, 1, 12, minute, tzinfo=dt.UTC))


def months(triggered=(), logical_month=None, colors=("yellow", "green"), run_type=None):
    return sorted(plan.months_to_load(list(triggered), logical_month, list(colors), run_type))


@pytest.mark.parametrize("run_type", ["scheduled", "manual", "backfill"])
@pytest.mark.parametrize(
    ("logical_date", "why"),
    [
        (dt.datetime(2999, 1, 1, tzinfo=dt.UTC), "2999-01 has not ended yet"),
        (dt.datetime(2008, 12, 1, tzinfo=dt.UTC), r"2008-12 is before the first month of any source \(2009-01"),
    ],
)
def test_a_run_of_a_month_no_source_publishes_fails_saying_why(run_type, logical_date, why):
    with pytest.raises(AirflowFailException, match=why):
        bigquery_tasks.bigquery_plan("b", "d", ["yellow"], logical_date, {}, run_type=run_type)


def test_a_manual_run_of_a_published_month_is_planned():
    """A month asked for by hand (or by a backfill) is loaded, or fails loudly when its file is missing."""
    wanted = plan.months_to_load([], dt.date(2021, 5, 1), ["yellow"], "manual")
    arguments = plan.month_arguments(wanted, "b", "p", "d")
    assert [(a["color"], a["month"], a["source_uri"]) for a in arguments] == [
        ("yellow", "2021-05", "gs://b/yellow/yellow_tripdata_2021-05.parquet")
    ]


def test_a_time_scheduled_run_loads_the_logical_month_for_params_colors():
    assert months(logical_month=dt.date(2021, 3, 1), colors=["green"], run_type="scheduled") == [("green", "2021-03")]


def test_events_plan_their_months_and_ignore_the_logical_date_and_the_colours():
    triggered = [event("yellow", "2021-04", 0, rows=42)]
    wanted = plan.months_to_load(triggered, dt.date(2021, 1, 1), ["green"], "asset_triggered")
    assert wanted == {("yellow", "2021-04"): {"color": "yellow", "month": "2021-04", "rows": 42}}


def test_a_run_loads_the_months_of_its_own_events_only():
    # Airflow hands a run the events since the previous Asset-triggered run: months loaded before are not.
    assert months([event("green", "2021-03", 20), event("yellow", "2021-04", 21)]) == [
        ("green", "2021-03"),
        ("yellow", "2021-04"),
    ]


def test_an_event_the_queue_dropped_is_loaded_by_the_run_it_came_too_late_for_and_not_again():
    """Airflow 3 keeps one queue entry per asset: an event of green while green's entry waits
    is left out of the run, and its entry deleted. The run loads it; the next run, whose triggering
    events include it, finds it in BigQuery (reconcile's event is newer) and skips it."""
    triggered = [event("green", "2021-01", 0)]
    later = [event("green", "2021-01", 0), event("green", "2021-02", 1), event("yellow", "2020-12", 0)]
    first = plan.months_to_load(triggered, None, [], "asset_triggered", later, loaded=[])
    assert sorted(first) == [("green", "2021-01"), ("green", "2021-02")]
    loaded = [event("green", "2021-01", 5), event("green", "2021-02", 6)]
    second = plan.months_to_load(
        [event("green", "2021-02", 1), event("green", "2021-03", 7)], None, [], None, [], loaded
    )
    assert sorted(second) == [("green", "2021-03")]


def test_a_month_written_again_after_its_load_is_loaded_again():
    loaded = [event("green", "2021-02", 5)]
    assert list(plan.months_to_load([event("green", "2021-02", 9)], None, [], None, [], loaded)) == [
        ("green", "2021-02")
    ]


def test_a_run_whose_every_month_is_in_bigquery_already_loads_none():
    loaded = [event("green", "2021-02", 5)]
    assert plan.months_to_load([event("green", "2021-02", 1)], dt.date(2021, 1, 1), ["green"], None, [], loaded) == {}


def test_a_month_seen_twice_is_loaded_once_with_its_latest_event():
    triggered = [event("yellow", "2021-05", 0, rows=1), event("yellow", "2021-05", 1, rows=2)]
    wanted = plan.months_to_load(triggered, None, [], None)
    assert list(wanted) == [("yellow", "2021-05")]
    assert wanted[("yellow", "2021-05")]["rows"] == 2


def test_events_without_a_known_colour_and_month_fall_back_to_the_logical_date():
    triggered = [
        Event({"color": "blue", "month": "2021-05"}, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
        Event({}, dt.datetime(2026, 1, 1, tzinfo=dt.UTC)),
    ]
    assert months(triggered, logical_month=dt.date(2021, 6, 1), colors=["yellow"]) == [("yellow", "2021-06")]


def test_a_run_with_no_events_and_no_logical_date_fails_with_what_to_do():
    with pytest.raises(ValueError, match="no logical date: trigger it with one"):
        months()
    with pytest.raises(AirflowFailException, match="no logical date"):
        bigquery_tasks.bigquery_plan("b", "d", ["yellow"], None, {})


def test_params_colors_must_be_known():
    with pytest.raises(ValueError, match=r"params\.colors must be a non-empty subset"):
        months(logical_month=dt.date(2021, 1, 1), colors=["blue"])


def test_a_trip_type_before_its_first_month_fails_naming_its_months():
    assert months(logical_month=dt.date(2019, 2, 1), colors=["fhvhv", "fhv"]) == [
        ("fhv", "2019-02"),
        ("fhvhv", "2019-02"),
    ]
    with pytest.raises(ValueError, match=r"fhvhv 2019-01 is not in either source's fhvhv months \(datatalksclub"):
        months(logical_month=dt.date(2019, 1, 1), colors=["yellow", "fhvhv"])


def test_month_arguments_name_the_tables_and_carry_the_merge_and_the_schema():
    wanted = {("green", "2021-02"): {"rows": 7}, ("yellow", "2021-01"): {}}
    first, second = plan.month_arguments(wanted, "bkt", "proj", "ds")
    assert (first["color"], second["color"]) == ("green", "yellow")
    assert first["staging"] == "proj.ds._staging_green_tripdata_202102"
    assert first["final"] == "proj.ds.green_tripdata"
    assert first["source_uri"] == "gs://bkt/green/green_tripdata_2021-02.parquet"
    assert first["expected_rows"] == 7
    assert second["expected_rows"] is None
    assert "MERGE `proj.ds.green_tripdata`" in first["merge"]
    assert "DATE '2021-02-01'" in first["merge"]
    assert [f["name"] for f in first["schema_fields"]][-2:] == ["lpep_pickup_date", "source_month"]
