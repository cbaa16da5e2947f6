"""The load plan of taxi_gcs_to_bigquery: which (colour, month) pairs a run loads, and the
arguments of each month's mapped task group. A pure function: no client, no Airflow; the task
(taxi_flows.orchestration.bigquery_tasks.bigquery_plan) hands it the run's events, dates and project.

- A run triggered by Asset events loads the months of the events that triggered it, each once (with
  its latest event), unless BigQuery already has it from after that event. Airflow hands a run the
  events since the DAG's previous Asset-triggered run (3.1 to 3.3, and 2.10's Dataset events
  alike), up to the event that queued the run: an event of the same asset that lands while the
  scheduler turns the queue into a run is left out of that run, and its queue entry is deleted
  with the others (the queue keeps one entry per asset). Such a later event (`later`: the newest
  events of the monthly Parquet assets, newer than the triggering ones) is loaded by this run
  too, and the next run its own events trigger skips it: a month is skipped when `loaded` (the
  events of the BigQuery trips asset, which reconcile emits) has it from after its event. A month
  loaded before, from an older event, is not reloaded.
- A time-scheduled, manual or backfill run loads the month of its logical date for the colours of
  params.colors; a month the source does not publish (of a type asked for: fhvhv starts in 2019-02)
  fails the run, naming the range.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from taxi_flows.bigquery.queries import replace_month_sql
from taxi_flows.bigquery.tables import staging_table, trip_schema_fields, trips_table
from taxi_flows.core.months import month_start
from taxi_flows.core.schema import COLORS, select_colors
from taxi_flows.core.source import check_published, check_type_month
from taxi_flows.gcs.layout import monthly_object

log = logging.getLogger(__name__)


class Event(Protocol):
    """An Asset (Dataset) event, as Airflow hands it to a task: its extra and when it happened."""

    extra: Any
    timestamp: dt.datetime


def months_to_load(
    triggered: Iterable[Event],
    logical_month: dt.date | None,
    colors: list[str],
    run_type: str | None,
    later: Iterable[Event] = (),
    loaded: Iterable[Event] = (),
) -> dict[tuple[str, str], dict]:
    """{(colour, 'YYYY-MM'): the event's extra (or {})}, for the triggering events or the logical date.

    ValueError for a run with no events and no logical date, a month the source does not publish,
    or bad colours.
    """
    triggered = list(triggered)
    events = _latest(triggered)
    if events:
        newest = max(event.timestamp for event in triggered)
        events |= {key: e for key, e in _latest(later).items() if e.timestamp > newest}
        return _not_loaded_since(events, _latest(loaded))
    if logical_month is None:
        raise ValueError("this run has no logical date: trigger it with one (YYYY-MM-01 loads month YYYY-MM)")
    check_published(logical_month)  # ValueError naming the range
    selected = select_colors(colors)
    for color in selected:
        check_type_month(color, logical_month)  # ValueError naming the type's months
    return {(color, f"{logical_month:%Y-%m}"): {} for color in selected}


def _latest(events: Iterable[Event]) -> dict[tuple[str, str], Event]:
    """The latest event of each (colour, month) that names one."""
    latest: dict[tuple[str, str], Event] = {}
    for event in events:
        extra = event.extra or {}
        key = (extra.get("color"), extra.get("month"))
        if key[0] in COLORS and key[1] and (key not in latest or event.timestamp >= latest[key].timestamp):
            latest[key] = event
    return latest


def _not_loaded_since(events: dict[tuple[str, str], Event], loaded: dict[tuple[str, str], Event]) -> dict:
    wanted = {}
    for key, event in sorted(events.items()):
        done = loaded.get(key)
        if done is not None and done.timestamp > event.timestamp:
            log.info(
                "%s %s: in BigQuery since %s, after its event of %s: not loaded again",
                *key,
                done.timestamp,
                event.timestamp,
            )
        else:
            wanted[key] = dict(event.extra)
    if wanted:
        log.info("Asset events for %s", ", ".join(f"{c} {m}" for c, m in wanted))
    else:
        log.info("Every month of these Asset events is in BigQuery from after its event: nothing to load")
    return wanted


def month_arguments(wanted: dict[tuple[str, str], dict], bucket: str, project: str, dataset: str) -> list[dict]:
    """One dict of load_month's arguments per (colour, month), in order."""
    plan = []
    for (color, m), extra in sorted(wanted.items()):
        month = month_start(m)
        plan.append(
            {
                "color": color,
                "month": m,
                "source_uri": f"gs://{bucket}/{monthly_object(color, month)}",
                "staging": f"{project}.{dataset}.{staging_table(color, month)}",
                "final": f"{project}.{dataset}.{trips_table(color)}",
                "schema_fields": trip_schema_fields(color),
                "merge": replace_month_sql(project, dataset, color, month),
                "expected_rows": extra.get("rows"),
            }
        )
    return plan
