"""The monthly loads' wait for the TLC to publish a month: the poke of their sensor
(``wait_until_published``, reschedule mode: taxi_flows.orchestration.dag_defaults).

Like taxi_flows.orchestration.tasks, it imports nothing heavy at the top: DAG files import it.
"""

from __future__ import annotations

import datetime as dt
import logging

from taxi_flows.orchestration.runs import check_colors, fail, fail_fast_on_bad_input, hide_secrets_of, run_month

log = logging.getLogger(__name__)


def wait_until_published(
    colors: list[str],
    tlc_base_url: str,
    logical_date: dt.datetime | None,
    source: str | None = None,
    params=None,
    kind: str | None = None,
) -> bool:
    """The poke of the monthly loads' sensor, their first task: it fails at once, before anything
    is written, when the run asks for what no source has (runs.run_month: a month outside the
    sources', a trip type before its first month, bad colours); then True once every trip type the
    run reads from the TLC has its month's file published (a type read from the mirror does not
    wait); False (poke again later) while one answers 403 or 404, until
    settings.PUBLICATION_WAIT_DAYS after the month ended; then the task fails naming the month and
    the URLs."""
    from taxi_flows.core import layouts, publication
    from taxi_flows.core import source as sources
    from taxi_flows.settings import PUBLICATION_WAIT_DAYS

    waiting = []
    for color in check_colors(colors):
        month = run_month(logical_date, params, kind, color, source)  # fails, saying why
        if sources.choose(color, month, source) == layouts.MIRROR:
            continue
        url = sources.tlc_trip_url(hide_secrets_of(tlc_base_url), color, month)
        with fail_fast_on_bad_input():
            code = publication.status(url, f"{color} {month:%Y-%m}")
        if code != 200:
            waiting.append((color, month, url, code))
    if not waiting:
        log.info("every month file this run reads is published")
        return True
    month = waiting[0][1]
    until = publication.deadline(month, PUBLICATION_WAIT_DAYS)
    files = "; ".join(f"{c} {m:%Y-%m}: {u} answers {code}" for c, m, u, code in waiting)
    if dt.datetime.now(dt.UTC) >= until:
        raise fail(
            f"not published {PUBLICATION_WAIT_DAYS} days after the month ended ({until:%Y-%m-%d}): {files}. "
            "The TLC publishes a month about two months after it ends; a month still missing is not coming "
            "(TAXI_PUBLICATION_WAIT_DAYS sets how long to wait)"
        )
    log.info("not published yet, waiting until %s at the latest: %s", f"{until:%Y-%m-%d}", files)
    return False
