"""What the bundle's DAGs share: task defaults, approved tags, params.colors, the timetables and
the monthly DAGs' arguments. Nothing heavy to import at parse time; names come from
taxi_flows.settings."""

from __future__ import annotations

import datetime as dt

from taxi_flows.orchestration.alerts import on_task_failure
from taxi_flows.settings import CATCHUP, FIRST_SOURCE_MONTH, LAST_SOURCE_MONTH

# Task defaults every DAG of the bundle uses (the policy tests check them).
DEFAULT_ARGS = {
    "owner": "taxi-flows",
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=15),
    "execution_timeout": dt.timedelta(minutes=30),
    # One paragraph in the log, and to the connection taxi_alerts when there is one (orchestration.alerts).
    "on_failure_callback": on_task_failure,
}

# Tags the DAGs may carry (the policy tests hold them to this set).
APPROVED_TAGS = frozenset({"zoomcamp", "nyc-taxi", "postgres", "gcs", "bigquery", "monitoring"})


def colors_param():
    """The `colors` param every DAG takes: which taxi colours a run handles."""
    from taxi_flows.core.schema import COLORS
    from taxi_flows.orchestration.compat import Param

    return Param(
        list(COLORS),
        type="array",
        items={"type": "string", "enum": list(COLORS)},
        minItems=1,
        description="Taxi colours to handle.",
    )


def monthly_timetable():
    """Monthly data intervals (UTC): the run whose logical date is YYYY-MM-01 handles month YYYY-MM
    and is scheduled once the month is over."""
    from airflow.timetables.interval import CronDataIntervalTimetable

    return CronDataIntervalTimetable("0 0 1 * *", timezone="UTC")


def daily_timetable():
    """Daily data intervals at 05:00 UTC (as the course's homework schedules it): the run whose
    logical date is day D handles D, once D is over."""
    from airflow.timetables.interval import CronDataIntervalTimetable

    return CronDataIntervalTimetable("0 5 * * *", timezone="UTC")


def _utc(day: dt.date):
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, tz="UTC")


def monthly_dag_args(event_triggered: bool = False, **overrides) -> dict:
    """What every monthly DAG shares besides its schedule (monthly_timetable(), given explicitly):
    the range of the re-hosted files (2019-01 … 2021-07), catchup, three months at a time, the
    task defaults and params.colors. `event_triggered`: the DAG also runs on Asset events, whose
    runs must not be cut off by the end of the range (compat.event_triggered_end_date)."""
    from taxi_flows.orchestration.compat import event_triggered_end_date

    end_date = _utc(LAST_SOURCE_MONTH)
    return {
        "start_date": _utc(FIRST_SOURCE_MONTH),
        "end_date": event_triggered_end_date(end_date) if event_triggered else end_date,
        "catchup": CATCHUP,
        "max_active_runs": 3,
        "default_args": DEFAULT_ARGS,
        "params": {"colors": colors_param()},
        **overrides,
    }


def daily_dag_args(**overrides) -> dict:
    """The daily DAG's: every day of the monthly range (2019-01-01 … 2021-07-31), catchup, four
    days at a time, the task defaults and params.colors."""
    from taxi_flows.core.months import next_month

    return {
        "start_date": _utc(FIRST_SOURCE_MONTH),
        "end_date": _utc(next_month(LAST_SOURCE_MONTH) - dt.timedelta(days=1)),
        "catchup": CATCHUP,
        "max_active_runs": 4,
        "default_args": DEFAULT_ARGS,
        "params": {"colors": colors_param()},
        **overrides,
    }
