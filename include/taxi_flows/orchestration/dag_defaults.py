"""What the bundle's DAGs share: task defaults, approved tags, params.colors, the timetables and
the monthly DAGs' arguments. Nothing heavy to import at parse time; names come from
taxi_flows.settings."""

from __future__ import annotations

import datetime as dt

from taxi_flows.orchestration.alerts import on_task_failure
from taxi_flows.orchestration.runs import hide_secrets_of
from taxi_flows.settings import (
    CATCHUP,
    DAG_START_DATE,
    FIRST_SOURCE_MONTH,
    LAST_SOURCE_MONTH,
    MASK_MACRO,
    RETRY_DELAY_SECONDS,
    SCHEDULE_LAST_MONTH,
)

# Task defaults every DAG of the bundle uses (the policy tests check them).
DEFAULT_ARGS = {
    "owner": "taxi-flows",
    "retries": 3,
    "retry_delay": dt.timedelta(seconds=RETRY_DELAY_SECONDS),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=15),
    "execution_timeout": dt.timedelta(minutes=30),
    # One paragraph in the log, and to the connection taxi_alerts when there is one (orchestration.alerts).
    "on_failure_callback": on_task_failure,
}

# Tags the DAGs may carry (the policy tests hold them to this set).
APPROVED_TAGS = frozenset({"zoomcamp", "nyc-taxi", "postgres", "gcs", "bigquery", "monitoring"})


def colors_param():
    """The `colors` param every DAG takes: which trip types a run handles (yellow and green unless
    it says otherwise)."""
    from taxi_flows.core.schema import COLORS, DEFAULT_COLORS
    from taxi_flows.orchestration.compat import Param

    return Param(
        list(DEFAULT_COLORS),
        type="array",
        items={"type": "string", "enum": list(COLORS)},
        minItems=1,
        description="Trip types to handle: yellow, green, fhv (For-Hire Vehicles), fhvhv (High Volume FHVs).",
    )


class SharedList(list):
    """A list that deep copies share instead of copying: Airflow deep-copies a DAG's params into
    every task, and the Month list's 200 entries, copied a dozen times, were a third of a monthly
    DAG file's parse time. Nothing mutates a param's enum; it serializes as the list it is."""

    def __deepcopy__(self, memo):
        return self


def month_param():
    """The `month` param of the monthly DAGs: a manual run's month, picked in the trigger form from
    the sources' months, newest first (Airflow shows an enum as a drop-down; its description says
    which months each trip type has, and from where). Empty: the month of the run's logical date,
    as scheduled runs and backfills have it. A month outside the list is refused before the run
    starts. (No label per month: Airflow copies a DAG's params into every task, and 200 labels
    doubled the DAG files' parse time.)"""
    from taxi_flows.core import source
    from taxi_flows.orchestration.compat import Param

    return Param(
        None,
        type=["null", "string"],
        enum=SharedList([None, *source.months_newest_first()]),
        values_display={None: "— the logical date's month —"},
        title="Month",
        description="The month to load (a manual run): the logical date does not matter then. Empty: the month of "
        f"the logical date (YYYY-MM-01 loads month YYYY-MM). The months of each trip type: {source.type_months()}.",
    )


def publication_sensor_args() -> dict:
    """The monthly loads' wait for the TLC to publish a month: reschedule mode (no worker slot held
    between pokes), a poke every settings.PUBLICATION_POKE_SECONDS; the poke itself fails the task
    once settings.PUBLICATION_WAIT_DAYS after the month have passed (the timeout is a backstop)."""
    from taxi_flows.settings import PUBLICATION_POKE_SECONDS, PUBLICATION_WAIT_DAYS

    return {
        "mode": "reschedule",
        "poke_interval": PUBLICATION_POKE_SECONDS,
        "timeout": (PUBLICATION_WAIT_DAYS + 400) * 86_400,  # a month waited for from its start, or a backfill
        "retries": 3,
    }


def source_param():
    """The `source` param of the monthly loads: which source a month is read from."""
    from taxi_flows.core.layouts import SOURCES
    from taxi_flows.orchestration.compat import Param

    return Param(
        None,
        type=["null", "string"],
        enum=[None, *SOURCES],
        description="Where to read the month: datatalksclub (the course's mirror, 2019-2021) or tlc (the TLC's "
        "Parquet files, every month); empty: the mirror where it has the month, the TLC otherwise.",
    )


# The DAGs' start_date: before any date a run may name. The range is the timetable's; a start_date
# or end_date at its ends would leave a run outside them (`airflow dags test` of a month the source
# does not publish, a manual run before 2019) with no task instance, green and empty. With this
# one, the run's first task fails, naming the range (runs.month_of, runs.day_of). Airflow needs a
# start_date for catchup.
EARLIEST = DAG_START_DATE


def monthly_timetable():
    """One run per month from 2019-01 up to the present (or settings.SCHEDULE_LAST_MONTH): the run
    whose logical date is YYYY-MM-01 loads month YYYY-MM, and its data interval is that month,
    scheduled, backfilled or triggered by hand alike (orchestration.timetables). A backfill may
    name any month from 2009-01 (the TLC's first); catch-up starts at 2019-01."""
    from taxi_flows.core.source import EARLIEST_MONTH
    from taxi_flows.orchestration.timetables import monthly

    return monthly(FIRST_SOURCE_MONTH, SCHEDULE_LAST_MONTH, EARLIEST_MONTH)


def daily_timetable():
    """One run per day of the mirror's months (2019-01-01 … 2021-07-31): the run whose logical date
    is day D handles D, over the interval [D, D+1). Not up to the present as the months are: a day
    reads its month from the bucket, which has it only once the month is published and loaded, two
    months or more after the day; later days run by hand."""
    from taxi_flows.core.months import next_month
    from taxi_flows.core.source import EARLIEST_MONTH
    from taxi_flows.orchestration.timetables import daily

    return daily(FIRST_SOURCE_MONTH, next_month(LAST_SOURCE_MONTH) - dt.timedelta(days=1), EARLIEST_MONTH)


def _utc(day: dt.date):
    from taxi_flows.orchestration.timetables import _utc as utc

    return utc(day)


def monthly_dag_args(**overrides) -> dict:
    """What every monthly DAG shares besides its schedule (monthly_timetable(), given explicitly):
    catchup, three months at a time, the task defaults and params.colors. The timetable holds the
    range, not the start_date (EARLIEST) or an end_date."""
    return {
        "start_date": _utc(EARLIEST),
        "catchup": CATCHUP,
        "max_active_runs": 3,
        "default_args": DEFAULT_ARGS,
        "params": {"colors": colors_param(), "month": month_param(), "source": source_param()},
        # settings.BASE_URL_TEMPLATE masks the Variable's secrets as it renders.
        "user_defined_macros": {MASK_MACRO: hide_secrets_of},
        **overrides,
    }


def daily_dag_args(**overrides) -> dict:
    """The daily DAG's: catchup, four days at a time, the task defaults and params.colors."""
    return {
        "start_date": _utc(EARLIEST),
        "catchup": CATCHUP,
        "max_active_runs": 4,
        "default_args": DEFAULT_ARGS,
        "params": {"colors": colors_param()},
        **overrides,
    }
