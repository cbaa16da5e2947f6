"""Run notes: what a run of the bundle's DAGs handles, and why it failed, on the run's page in
Airflow's UI (a DAG run's note, which the grid and the run's details show).

Airflow calls the two hooks below in the scheduler (a listener of plugins/taxi_flows_plugin.py),
which may write a run's note: a task cannot, on the Airflow releases the bundle supports. When a
run starts, its note names the month (or day) and trip types it handles, however the run was made
(a manual run is named by when it was triggered, an Asset-triggered one too; the month picked in
the trigger form is in neither); a note a user gave the run is kept. When it fails, the reasons its tasks gave
(runs.fail, stored as the XCom REASON_KEY) are added, so a run refused for its input says why
where the user looks first, not only in a task log.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager

from airflow.listeners import hookimpl

from taxi_flows.orchestration.runs import REASON_KEY

log = logging.getLogger(__name__)

MONTHLY = ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery")
DAILY = ("taxi_daily_trips_to_gcs",)
NOTE_LIMIT = 1000  # what Airflow's API accepts of a note


def describe(dag_id: str, run_type: str | None, logical_date, conf: dict | None, events: list[dict]) -> str | None:
    """The note of a run when it starts: what it handles, from its conf, logical date or (a run of
    taxi_gcs_to_bigquery on Asset events) the extras of its events; None for a DAG without one."""
    from taxi_flows.core.schema import DEFAULT_COLORS

    conf = conf or {}
    colors = ", ".join(conf.get("colors") or DEFAULT_COLORS)
    if dag_id in MONTHLY:
        months = sorted({f"{e.get('color')} {e.get('month')}" for e in events if e.get("month")})
        if months:
            return f"Loads the months of its Asset events: {', '.join(months)}."
        if conf.get("month"):
            return f"Loads {colors} {conf['month']}: the month picked in the trigger form."
        if logical_date is not None:
            when = _utc(logical_date)
            month = f"{when:%Y-%m}"
            if when != dt.datetime(when.year, when.month, 1, tzinfo=dt.UTC):
                return f"Asks for {colors} of the logical date {when:%Y-%m-%d %H:%M} UTC, which starts no month."
            return f"Loads {colors} {month} (its logical date{'' if run_type != 'backfill' else ', in a backfill'})."
        return None
    if dag_id in DAILY and logical_date is not None:
        return f"Exports the {colors} trips picked up on {_utc(logical_date):%Y-%m-%d}."
    return None


def failure(reasons: list[str], failed_tasks: list[str]) -> str:
    """What a failed run's note adds: its tasks' reasons, or which tasks failed (their logs say why)."""
    if reasons:
        return "Failed: " + " / ".join(dict.fromkeys(reasons))
    if failed_tasks:
        return f"Failed in {', '.join(failed_tasks)}: its log says why."
    return "Failed."


def _utc(value) -> dt.datetime:
    return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _ours(dag_run) -> bool:
    return dag_run.dag_id in MONTHLY + DAILY


@contextmanager
def _run_in_session(dag_run):
    """(the run, its session): the scheduler's own where the run is attached to it (its row is
    locked there: a second session writing the note would wait for the scheduler, which waits for
    this hook); a session of its own, committed, where it is not (dag.test())."""
    from sqlalchemy.orm import object_session

    session = object_session(dag_run)
    if session is not None:
        yield dag_run, session
        # Written now, while the run is in the session: Airflow 2's backfill detaches its run
        # (make_transient) before it commits, which would leave the note without its run.
        session.flush()
        return
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as own:
        yield own.query(DagRun).filter_by(dag_id=dag_run.dag_id, run_id=dag_run.run_id).one(), own


@hookimpl
def on_dag_run_running(dag_run, msg: str) -> None:
    """A run of the bundle's starts: its note names what it handles (a note it was given is kept)."""
    if not _ours(dag_run):
        return
    try:
        from taxi_flows.orchestration.compat import consumed_event_extras, logical_date_of, run_type

        with _run_in_session(dag_run) as (run, _):
            if run.note:
                return
            events = consumed_event_extras(run)
            note = describe(run.dag_id, run_type(run), logical_date_of(run), run.conf, events)
            if note:
                run.note = note[:NOTE_LIMIT]
    except Exception:  # a note is never worth a scheduler's error
        log.exception("could not write the note of %s %s", dag_run.dag_id, dag_run.run_id)


@hookimpl
def on_dag_run_failed(dag_run, msg: str) -> None:
    """A run of the bundle's failed: its note says why (the reasons its tasks gave)."""
    if not _ours(dag_run):
        return
    try:
        from taxi_flows.orchestration.compat import run_xcom_values

        with _run_in_session(dag_run) as (run, session):
            reasons = [str(v) for v in run_xcom_values(run, REASON_KEY, session) if v]
            failed = sorted({ti.task_id for ti in run.get_task_instances(state=["failed"], session=session)})
            run.note = "\n\n".join(part for part in (run.note, failure(reasons, failed)) if part)[:NOTE_LIMIT]
    except Exception:
        log.exception("could not write the note of %s %s", dag_run.dag_id, dag_run.run_id)
