"""The runs' notes (orchestration.notes): what a run handles when it starts, why it failed."""

from __future__ import annotations

import datetime as dt

import pytest

from taxi_flows.orchestration import notes

pytestmark = pytest.mark.depends_on("airflow")

JAN = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("dag_id", "run_type", "logical_date", "conf", "events", "note"),
    [
        ("taxi_web_to_postgres", "backfill", JAN, {"colors": ["green"]}, [],
         "Loads green 2021-01 (its logical date, in a backfill)."),
        ("taxi_web_to_gcs", "scheduled", JAN, {}, [], "Loads yellow, green 2021-01 (its logical date)."),
        ("taxi_web_to_gcs", "manual", dt.datetime(2026, 12, 7, 13, 5, tzinfo=dt.UTC), {"month": "2021-04"}, [],
         "Loads yellow, green 2021-04: the month picked in the trigger form."),
        ("taxi_web_to_gcs", "manual", dt.datetime(2026, 12, 7, 13, 5, tzinfo=dt.UTC), {}, [],
         "Asks for yellow, green of the logical date 2026-12-07 13:05 UTC, which starts no month."),
        ("taxi_gcs_to_bigquery", "asset_triggered", None, {},
         [{"color": "green", "month": "2021-02"}, {"color": "green", "month": "2021-01"}],
         "Loads the months of its Asset events: green 2021-01, green 2021-02."),
        ("taxi_daily_trips_to_gcs", "scheduled", dt.datetime(2021, 1, 15, tzinfo=dt.UTC), {"colors": ["yellow"]}, [],
         "Exports the yellow trips picked up on 2021-01-15."),
        ("check_connections", "manual", JAN, {}, [], None),
    ],
)  # fmt: skip
def test_a_run_s_note_says_what_it_handles(dag_id, run_type, logical_date, conf, events, note):
    assert notes.describe(dag_id, run_type, logical_date, conf, events) == note


def test_a_failed_run_s_note_gives_its_tasks_reasons_or_names_the_tasks():
    assert notes.failure(["a month outside", "a month outside"], ["wait_until_published"]) == "Failed: a month outside"
    assert notes.failure([], ["load_trips", "wait_until_published"]) == (
        "Failed in load_trips, wait_until_published: its log says why."
    )
