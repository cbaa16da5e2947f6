"""What a task reads from its run, and how it fails: the month or day of the logical date, the
colours of params.colors, and bad input turned into a failure without retries."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from taxi_flows.core.months import month_start
from taxi_flows.core.redact import redact

log = logging.getLogger(__name__)


# The XCom a task that fails for its run's input leaves the reason under: the run's note says it
# (orchestration.notes).
REASON_KEY = "taxi_reason"


def fail(message: str) -> Exception:
    """An exception that fails the task at once, without retries (raise it). The message is logged
    first: the task log names the problem on every Airflow version, whatever it records; and left
    as the XCom REASON_KEY, which the run's note shows on its page in the UI."""
    from taxi_flows.orchestration.compat import AirflowFailException

    log.error("%s", message)
    _leave_reason(message)
    return AirflowFailException(message)


def _leave_reason(message: str) -> None:
    try:
        from taxi_flows.orchestration.compat import get_current_context

        ti = get_current_context()["ti"]
    except Exception:  # outside a task (a test, a script): no run to note
        return
    try:  # shown in the UI: a URL's password never (core.redact)
        ti.xcom_push(key=REASON_KEY, value=redact(message)[:900])
    except Exception:  # a note is never worth a task's own error
        log.debug("could not leave the reason for the run's note", exc_info=True)


def month_of(logical_date: dt.datetime | None, color: str | None = None, source: str | None = None) -> dt.date:
    """The month a run handles: the month of its logical date (YYYY-MM-01 -> YYYY-MM), one the
    source publishes (of the trip type `color`, when given: fhvhv starts in 2019-02); else the task
    fails, naming the range. `airflow dags test DAG 2021-01-01`, a manual run, a backfill and a
    scheduled run name the month alike (dag_defaults.monthly_timetable).
    """
    from taxi_flows.core.source import check_published, check_type_month

    if logical_date is None:
        raise fail("this run has no logical date: trigger it with one (YYYY-MM-01 loads month YYYY-MM)")
    try:
        month = check_published(month_start(_utc(logical_date)))
    except ValueError as e:
        raise fail(str(e)) from e
    _check_period_start(logical_date, dt.datetime.combine(month, dt.time(), dt.UTC), f"{month:%Y-%m}")
    if color is not None:
        try:
            check_type_month(color, month, source)
        except ValueError as e:
            raise fail(str(e)) from e
    return month


def run_month(
    logical_date: dt.datetime | None,
    params=None,
    kind: str | None = None,
    color: str | None = None,
    source: str | None = None,
) -> dt.date:
    """The month a run of a monthly DAG handles: the one a manual run picked in the trigger form
    (params.month, from a list of the sources' months: the logical date does not matter then), else
    the month of its logical date (month_of). Of the trip type `color`, when given. Else the task
    fails, naming what to pick. kind: the run's type (compat.run_type)."""
    from taxi_flows.core.months import month_start
    from taxi_flows.core.source import check_published, check_type_month

    picked = (params or {}).get("month")
    if not picked:
        return month_of(logical_date, color, source)
    if kind not in (None, "manual"):
        raise fail(
            f"params.month ({picked}) picks the month of a run triggered by hand; this {kind} run handles the month "
            "of its logical date: leave month out of its conf"
        )
    try:
        month = check_published(month_start(str(picked)))
        if color is not None:
            check_type_month(color, month, source)
    except ValueError as e:
        raise fail(str(e).replace("pick a later logical date", "pick a later month")) from e
    return month


def day_of(logical_date: dt.datetime | None) -> dt.date:
    """The day a daily run handles: the (UTC) date of its logical date, in the source's months."""
    from taxi_flows.core.source import check_published_day

    if logical_date is None:
        raise fail("this run has no logical date: trigger it with one (YYYY-MM-DD is the pickup day)")
    try:
        day = check_published_day(_utc(logical_date).date())
    except ValueError as e:
        raise fail(str(e)) from e
    _check_period_start(logical_date, dt.datetime.combine(day, dt.time(), dt.UTC), f"{day}")
    return day


def _utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _check_period_start(logical_date: dt.datetime, start: dt.datetime, period: str) -> None:
    """A run's logical date must be its period's start, 00:00 UTC, as the UI shows it: a date picked
    in a browser east of UTC (2021-02-01 00:00 CET is 2021-01-31 23:00 UTC) or mid-month would load
    a period the UI does not name. The task fails saying which date to pick."""
    if _utc(logical_date) != start:
        what = "pick the month in the trigger form's month field (the logical date does not matter then), or "
        raise fail(
            f"the run's logical date {_utc(logical_date):%Y-%m-%d %H:%M} UTC is not the start of a period: "
            f"{what if len(period) == 7 else ''}set the logical date to {start:%Y-%m-%d} 00:00 UTC, the start of "
            f"{period}"
        )


def hide_secrets_of(url: str) -> str:
    """Hand the secret parts of url (userinfo, secret query values: a Variable may carry them) to
    Airflow's secret masker; returns url unchanged."""
    from taxi_flows.core.redact import secrets_of
    from taxi_flows.orchestration.compat import mask_secret

    for secret in secrets_of(url):
        mask_secret(secret)
    return url


def check_colors(colors: list[str]) -> list[str]:
    """params.colors, checked (a non-empty subset of the colours) and in order; else the task fails."""
    from taxi_flows.core.schema import select_colors

    try:
        return select_colors(colors)
    except ValueError as e:
        raise fail(str(e)) from e


# The conf keys a run may carry: the params the bundle's DAGs take (dag_defaults; the monthly
# loads take month and source besides colors).
ACCEPTED_CONF_KEYS = ("colors", "month", "source")


def check_conf(dag_run, params=None) -> None:
    """A key of the run's conf that is not one of the DAG's params would be ignored by Airflow (a
    month in the conf, a typo): the task fails instead, listing the accepted keys."""
    conf = getattr(dag_run, "conf", None) or {}
    accepted = [key for key in ACCEPTED_CONF_KEYS if params is None or key in params]
    unknown = sorted(set(conf) - set(accepted))
    if unknown:
        raise fail(
            f"unknown key(s) {unknown} in the run's conf: the accepted keys are {accepted}"
            + ("" if "month" in accepted else " (the run's day or month is its logical date)")
        )


def skip_unless_selected(color: str, colors: list[str]) -> None:
    """A colour the run's params do not ask for is skipped (and emits no Asset event)."""
    if color not in check_colors(colors):
        from taxi_flows.orchestration.compat import AirflowSkipException

        raise AirflowSkipException(f"{color} is not in params.colors {colors}")


@contextmanager
def fail_fast_on_bad_input() -> Iterator[None]:
    """Bad input (missing file, HTML page, truncated gzip, changed header, wrong types, failed
    checks, a value PostgreSQL refuses) fails the task without retries: retrying cannot fix the
    source. A source unavailable this time is logged with what happens next (the task's next try,
    or none left) and retried by Airflow; other errors (database, network) propagate as they are."""
    from taxi_flows.core.download import SourceError, SourceUnavailable
    from taxi_flows.core.quality import DataQualityError

    try:
        yield
    except (SourceError, DataQualityError) as e:
        raise fail(str(e)) from e
    except SourceUnavailable as e:
        log.error("%s; %s", e, next_try())
        raise
    except Exception as e:
        if _is_data_error(e):
            raise fail(f"PostgreSQL refused a value of the source: {e}".strip()) from e
        raise


def _is_data_error(e: Exception) -> bool:
    """A value PostgreSQL cannot store (psycopg's DataError: a NUL byte in text, a number out of range):
    the file's fault, not the connection's."""
    try:
        from psycopg import DataError
    except ImportError:  # a worker without psycopg loads no PostgreSQL
        return False
    return isinstance(e, DataError)


def next_try() -> str:
    """What Airflow does next with the running task: "retrying, try 2 of 4", or "no tries left"."""
    try:
        from taxi_flows.orchestration.compat import get_current_context

        ti = get_current_context()["ti"]
        current, tries = int(ti.try_number), int(ti.max_tries) + 1
    except Exception:  # outside a task (a test, a script): nothing to say
        return "retrying if the task has retries left"
    if current < tries:
        return f"retrying, try {current + 1} of {tries}"
    return f"no tries left (try {current} of {tries})"
