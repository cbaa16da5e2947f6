"""The load plan of taxi_gcs_to_bigquery: which (colour, month) pairs a run loads, and the
arguments of each month's mapped task group. A pure function: no client, no Airflow; the task
(taxi_flows.orchestration.tasks.bigquery_plan) hands it the run's events, dates and project.

- A run triggered by Asset events loads the months of the events that triggered it, and no
  others: Airflow hands each run the events since the DAG's previous Asset-triggered run (3.1 to
  3.3, and 2.10's Dataset events alike), so a month written once is loaded once, by the run its
  event triggered. A month seen twice in one run is loaded once, with its latest event.
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
) -> dict[tuple[str, str], dict]:
    """{(colour, 'YYYY-MM'): the event's extra (or {})}, for the triggering events or the logical date.

    ValueError for a run with no events and no logical date, a month the source does not publish,
    or bad colours.
    """
    wanted: dict[tuple[str, str], dict] = {}
    for event in triggered:  # oldest first, as Airflow hands them: the latest of a month wins
        extra = dict(event.extra or {})
        if extra.get("color") in COLORS and extra.get("month"):
            wanted[(extra["color"], extra["month"])] = extra
    if wanted:
        log.info("Asset events for %s", ", ".join(f"{c} {m}" for c, m in sorted(wanted)))
        return wanted
    if logical_month is None:
        raise ValueError("this run has no logical date: trigger it with one (YYYY-MM-01 loads month YYYY-MM)")
    check_published(logical_month)  # ValueError naming the range
    selected = select_colors(colors)
    for color in selected:
        check_type_month(color, logical_month)  # ValueError naming the type's months
    return {(color, f"{logical_month:%Y-%m}"): {} for color in selected}


def month_arguments(wanted: dict[tuple[str, str], dict], bucket: str, project: str, dataset: str) -> list[dict]:
    """One dict of load_month's arguments per (colour, month), in order."""
    plan = []
    for (color, m), extra in sorted(wanted.items()):
        month = month_start(m)
        merge = {"query": replace_month_sql(project, dataset, color, month), "useLegacySql": False}
        plan.append(
            {
                "color": color,
                "month": m,
                "bucket": bucket,
                "source_objects": [monthly_object(color, month)],
                "staging": f"{project}.{dataset}.{staging_table(color, month)}",
                "final": f"{project}.{dataset}.{trips_table(color)}",
                "schema_fields": trip_schema_fields(color),
                "merge": {"query": merge},
                "expected_rows": extra.get("rows"),
            }
        )
    return plan
