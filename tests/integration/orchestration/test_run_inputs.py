"""Nothing succeeds silently: a run for a month or day no source publishes (before 2009, not ended), a run without
a logical date and a run whose conf has a key the DAG does not take each fail, with a message that
names what was expected, in their first task, before anything is written (the zone lookup
included). The DAGs have no start_date or end_date (their timetable holds the range), so such runs
have task instances. A month picked outside the trigger form's list is refused before the run starts."""

from __future__ import annotations

import pytest
from support.dagrun import load_dag, log_messages, run

from taxi_flows.orchestration.compat import AIRFLOW_3

pytestmark = pytest.mark.integration

FUTURE = "has not ended yet: no source has its trips"
BEFORE = "is before the first month of any source (2009-01, the TLC's first yellow file)"


def failed_with(dag, date, expected: str, colors=("yellow",), **conf) -> dict:
    with log_messages() as messages:
        dr, states = run(dag, date, colors, **conf)
    assert dr.state == "failed", states
    assert any(expected in m for m in messages), messages
    return states


def refused_first(states: dict) -> None:
    """The first task failed at once (retrying cannot fix the run's input); nothing after it ran."""
    assert states.pop(("wait_until_published", -1)) == ("failed", 1), states
    assert {state for state, _ in states.values()} == {"upstream_failed"}, states


@pytest.mark.parametrize(("date", "why"), [("2999-08", FUTURE), ("2008-12", BEFORE)])
def test_a_month_no_source_publishes_fails_at_once_saying_why(stack, date, why):
    dag = load_dag(stack, "taxi_web_to_postgres")
    refused_first(failed_with(dag, date, f"{date} {why}"))


def test_a_type_before_its_first_month_fails_at_once_naming_its_months(stack):
    dag = load_dag(stack, "taxi_web_to_postgres")
    states = failed_with(dag, "2013-12", "green 2013-12 is not in either source's green months", colors=("green",))
    refused_first(states)


def test_a_month_picked_for_a_type_before_its_first_fails_first_naming_its_months(stack):
    dag = load_dag(stack, "taxi_web_to_postgres")
    picked = {"month": "2019-01"}  # in the form's list (yellow, green, fhv have it), not for fhvhv
    why = "fhvhv 2019-01 is not in either source's fhvhv months"
    with log_messages() as messages:
        dr, states = run(dag, "2021-04", ("fhvhv",), **picked)
    assert any(why in m for m in messages), messages
    refused_first(states)
    # The run's page says why: its note, written by the plugin's listener (in the scheduler; here, in
    # dag.test(), which starts a run without the scheduler's note of what it loads).
    assert f"Failed: {why}" in note_of(dr)


def note_of(dr) -> str:
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(DagRun).filter_by(dag_id=dr.dag_id, run_id=dr.run_id).one().note or ""


def test_a_month_outside_the_form_s_list_is_refused_before_the_run_starts(stack):
    from taxi_flows.orchestration.compat import ParamValidationError

    dag = load_dag(stack, "taxi_web_to_postgres")
    with pytest.raises(ParamValidationError, match="month"):
        run(dag, "2021-04", ("yellow",), month="2021-13")


def test_every_monthly_dag_checks_the_range(stack):
    failed_with(load_dag(stack, "taxi_web_to_gcs"), "2999-08", f"2999-08 {FUTURE}")
    failed_with(load_dag(stack, "taxi_gcs_to_bigquery"), "2999-08", f"2999-08 {FUTURE}")


def test_a_day_outside_the_sources_months_fails_naming_the_range(stack):
    dag = load_dag(stack, "taxi_daily_trips_to_gcs")
    failed_with(dag, "2999-08-05", f"2999-08-05 is outside the days of the sources' months: 2999-08 {FUTURE}")


def test_an_unknown_conf_key_fails_listing_the_accepted_keys(stack):
    dag = load_dag(stack, "taxi_web_to_postgres")
    states = failed_with(
        dag,
        "2021-01",
        "unknown key(s) ['day'] in the run's conf: the accepted keys are ['colors', 'month', 'source']",
        day="2021-01-05",
    )
    refused_first(states)


@pytest.mark.skipif(not AIRFLOW_3, reason="every Airflow 2 run has a logical date")
def test_a_run_without_a_logical_date_fails_saying_how_to_give_one(stack):
    dag = load_dag(stack, "taxi_web_to_postgres")
    failed_with(dag, None, "this run has no logical date: trigger it with one (YYYY-MM-01 loads month YYYY-MM)")
