"""Names and defaults the DAGs share: constants, and nothing heavy to import at parse time."""

from __future__ import annotations

import datetime as dt
import os

from taxi_flows.alerts import on_task_failure

# Connections and pools.
POSTGRES_CONN_ID = "taxi_postgres"
GCP_CONN_ID = "google_cloud_default"
POSTGRES_SCHEMA = "ny_taxi"
# Every load into taxi_postgres takes a slot: one connection and about one server core each.
# 2 fits the local stack's 2-core machine; raise it for a larger database (see README).
POSTGRES_POOL = "taxi_postgres"
POSTGRES_POOL_SLOTS = 2
# A month load keeps about one core busy (parsing, encoding) while the database or the uploads keep
# another: at most this many of one DAG's month tasks at a time, across all its runs and backfills.
HEAVY_TASKS_PER_DAG = 2

# Task defaults every DAG of the bundle uses (the policy tests check them).
DEFAULT_ARGS = {
    "owner": "taxi-flows",
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=15),
    "execution_timeout": dt.timedelta(minutes=30),
    # One paragraph in the log, and to the connection taxi_alerts when there is one (taxi_flows.alerts).
    "on_failure_callback": on_task_failure,
}

# catchup of the scheduled DAGs. true (the default) loads every month since 2019-01 when a DAG is
# unpaused; TAXI_CATCHUP=false unpauses without that (backfill the months you want instead).
CATCHUP = os.getenv("TAXI_CATCHUP", "true").strip().lower() not in ("false", "0", "no")

# Tags the DAGs may carry (the policy tests hold them to this set).
APPROVED_TAGS = frozenset({"zoomcamp", "nyc-taxi", "postgres", "gcs", "bigquery", "monitoring"})


def colors_param():
    """The `colors` param every DAG takes: which taxi colours a run handles."""
    from taxi_flows.compat import Param
    from taxi_flows.schema import COLORS

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


# The months DataTalksClub re-hosts: the range of the monthly DAGs' catchup.
FIRST_SOURCE_MONTH = dt.date(2019, 1, 1)
LAST_SOURCE_MONTH = dt.date(2021, 7, 1)


def monthly_dag_args(event_triggered: bool = False, **overrides) -> dict:
    """What every monthly DAG shares besides its schedule (monthly_timetable(), given explicitly):
    the range of the re-hosted files (2019-01 … 2021-07), catchup, three months at a time, the
    task defaults and params.colors. `event_triggered`: the DAG also runs on Asset events, whose
    runs must not be cut off by the end of the range (taxi_flows.compat.event_triggered_end_date)."""
    import pendulum

    from taxi_flows.compat import event_triggered_end_date

    end_date = pendulum.datetime(LAST_SOURCE_MONTH.year, LAST_SOURCE_MONTH.month, 1, tz="UTC")
    return {
        "start_date": pendulum.datetime(FIRST_SOURCE_MONTH.year, FIRST_SOURCE_MONTH.month, 1, tz="UTC"),
        "end_date": event_triggered_end_date(end_date) if event_triggered else end_date,
        "catchup": CATCHUP,
        "max_active_runs": 3,
        "default_args": DEFAULT_ARGS,
        "params": {"colors": colors_param()},
        **overrides,
    }
