"""What a task reads from its run, and how it fails: the month or day of the logical date, the
colours of params.colors, and bad input turned into a failure without retries."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from taxi_flows.core.months import month_start

log = logging.getLogger(__name__)


def fail(message: str) -> Exception:
    """An exception that fails the task at once, without retries (raise it)."""
    from taxi_flows.orchestration.compat import AirflowFailException

    return AirflowFailException(message)


def month_of(logical_date: dt.datetime | None) -> dt.date:
    """The month a run handles: the month of its logical date (YYYY-MM-01 -> YYYY-MM).

    For scheduled runs and backfills of the monthly data-interval timetable the logical date is
    the start of the month's interval; a manual run or `airflow dags test DAG 2021-01-01` names
    the month by its logical date directly.
    """
    if logical_date is None:
        raise fail("this run has no logical date: trigger it with one (YYYY-MM-01 loads month YYYY-MM)")
    return month_start(logical_date)


def day_of(logical_date: dt.datetime | None) -> dt.date:
    """The day a daily run handles: the (UTC) date of its logical date."""
    if logical_date is None:
        raise fail("this run has no logical date: trigger it with one (YYYY-MM-DD is the pickup day)")
    return logical_date.date()


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


def skip_unless_selected(color: str, colors: list[str]) -> None:
    """A colour the run's params do not ask for is skipped (and emits no Asset event)."""
    if color not in check_colors(colors):
        from taxi_flows.orchestration.compat import AirflowSkipException

        raise AirflowSkipException(f"{color} is not in params.colors {colors}")


@contextmanager
def fail_fast_on_bad_input() -> Iterator[None]:
    """Bad input (missing file, HTML page, truncated gzip, changed header, wrong types, failed
    checks) fails the task without retries: retrying cannot fix the source. Other errors (network,
    database) propagate as they are, and the task's retries take them."""
    from taxi_flows.core.download import SourceError
    from taxi_flows.core.quality import DataQualityError

    try:
        yield
    except (SourceError, DataQualityError) as e:
        log.error("%s", e)
        raise fail(str(e)) from e
