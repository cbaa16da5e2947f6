"""Read and set what the tests and benchmarks need in Airflow's metadata database, whatever the
Airflow version: Airflow 3 keeps Assets (asset_event, asset_dag_run_queue, keyed by the asset's
name), Airflow 2 keeps Datasets (dataset_event, dataset_dag_run_queue, keyed by the URI). The
version itself comes from taxi_flows.orchestration.compat, the only module that tells it."""

from __future__ import annotations

from taxi_flows.orchestration.compat import AIRFLOW_3


def _models():
    """(event model, asset model, queue model, the asset model's name column, the foreign key name)."""
    if AIRFLOW_3:
        from airflow.models.asset import AssetDagRunQueue, AssetEvent, AssetModel

        return AssetEvent, AssetModel, AssetDagRunQueue, AssetModel.name, "asset_id"
    from airflow.models.dataset import DatasetDagRunQueue, DatasetEvent, DatasetModel

    return DatasetEvent, DatasetModel, DatasetDagRunQueue, DatasetModel.uri, "dataset_id"


def _events_of(session, name: str):
    """A query of the events of the asset (dataset) of that name."""
    event_model, asset_model, _, name_column, key = _models()
    return (
        session.query(event_model)
        .join(asset_model, asset_model.id == getattr(event_model, key))
        .filter(name_column == name)
    )


def latest_event_extra(name: str) -> dict:
    """The extra of the newest event of the asset (dataset) of that name; {} when it has none."""
    from airflow.utils.session import create_session

    event_model = _models()[0]
    with create_session() as session:
        event = _events_of(session, name).order_by(event_model.timestamp.desc()).first()
        return dict(event.extra) if event else {}


def queued_assets(dag_id: str) -> list[str]:
    """Names of the assets whose events wait in the queue of an asset-triggered DAG."""
    from airflow.utils.session import create_session

    _, asset_model, queue_model, name_column, key = _models()
    with create_session() as session:
        rows = (
            session.query(name_column)
            .join(queue_model, getattr(queue_model, key) == asset_model.id)
            .filter(queue_model.target_dag_id == dag_id)
            .all()
        )
        return sorted(r[0] for r in rows)


def delete_events(name: str) -> None:
    """Delete the events of the asset (dataset) of that name: Airflow 2 hands a Dataset-triggered
    run every event since the DAG's previous such run, all of them for its first."""
    from airflow.utils.session import create_session

    event_model, asset_model, _, name_column, key = _models()
    with create_session() as session:
        ids = [row[0] for row in session.query(asset_model.id).filter(name_column == name).all()]
        session.query(event_model).filter(getattr(event_model, key).in_(ids)).delete(synchronize_session=False)


def clear_queue(dag_id: str) -> None:
    from airflow.utils.session import create_session

    _, _, queue_model, _, _ = _models()
    with create_session() as session:
        session.query(queue_model).filter(queue_model.target_dag_id == dag_id).delete()


def set_paused(dag_id: str, paused: bool) -> None:
    """Pause or unpause a DAG (the asset manager queues no run for a paused DAG; DAGs start paused)."""
    from airflow.models.dag import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        session.query(DagModel).filter(DagModel.dag_id == dag_id).update({"is_paused": paused})


def delete_runs(dag_id: str) -> None:
    """Delete the DAG's runs (and so their task instances): a test that backfills starts from none,
    whatever earlier tests ran (Airflow 3.1's backfill keeps an earlier run of a date as it is)."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        for run in session.query(DagRun).filter(DagRun.dag_id == dag_id).all():
            session.delete(run)


def backfills_done(dag_id: str) -> bool:
    """The DAG has backfills (Airflow 3) and the scheduler has marked each of them completed: only
    then may another backfill of the DAG be created."""
    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = session.query(Backfill).filter(Backfill.dag_id == dag_id).all()
        return bool(rows) and all(b.completed_at is not None for b in rows)


def dag_runs(dag_id: str, ended_after=None) -> list[tuple[str, str | None, str]]:
    """(run type, month of the logical date, state) of the DAG's runs; only those that ended after
    ended_after if given."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == dag_id).all()
        return [
            (str(r.run_type), f"{_logical_date(r):%Y-%m}" if _logical_date(r) else None, str(r.state))
            for r in runs
            if ended_after is None or (r.end_date and r.end_date > ended_after)
        ]


def ended_runs(dag_id: str, ended_after=None) -> list[tuple[str, str, str]]:
    """(run id, run type, state) of the DAG's runs that ended (after ended_after if given), in the
    order they ended."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.end_date.isnot(None)).all()
        ended = [r for r in runs if ended_after is None or r.end_date > ended_after]
        return [(r.run_id, str(r.run_type), str(r.state)) for r in sorted(ended, key=lambda r: r.end_date)]


def run_periods(dag_id: str, with_run_id: bool = False) -> list[tuple]:
    """(run type, logical date, data interval start, data interval end, state) of the DAG's runs,
    the dates as YYYY-MM-DD (UTC), sorted: what the UI shows of each run; the run id first if asked."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    def day(value) -> str | None:
        return f"{value:%Y-%m-%d}" if value is not None else None

    with create_session() as session:
        runs = session.query(DagRun).filter(DagRun.dag_id == dag_id).all()
        rows = [
            (str(r.run_type), day(_logical_date(r)), day(r.data_interval_start), day(r.data_interval_end), str(r.state))
            for r in runs
        ]
        return sorted((r.run_id, *row) if with_run_id else row for r, row in zip(runs, rows, strict=True))


def run_notes(dag_id: str) -> dict[str, str]:
    """{run id: its note ('' for none)} of the DAG's runs: what the run's page shows first."""
    from airflow.models import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        return {r.run_id: r.note or "" for r in session.query(DagRun).filter(DagRun.dag_id == dag_id).all()}


def event_months(name: str) -> dict[str, str]:
    """{run id: month in the event's extra} of the events of the asset (dataset) of that name."""
    from airflow.utils.session import create_session

    with create_session() as session:
        events = _events_of(session, name).all()
        return {e.source_run_id: (e.extra or {}).get("month") for e in events if e.source_run_id}


def events_since(name: str, after) -> list[tuple[str, str]]:
    """(colour, month) of each event of the asset (dataset) of that name after `after`, in order."""
    from airflow.utils.session import create_session

    with create_session() as session:
        events = sorted((e for e in _events_of(session, name).all() if e.timestamp > after), key=lambda e: e.timestamp)
        return [((e.extra or {}).get("color"), (e.extra or {}).get("month")) for e in events]


def _logical_date(run):
    return run.logical_date if AIRFLOW_3 else run.execution_date


def task_states(dag_id: str) -> str:
    """One line per task instance of the DAG: run, task[map index], state, try (for diagnostics)."""
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id).all()
        return "\n".join(sorted(f"{t.run_id} {t.task_id}[{t.map_index}] {t.state} try {t.try_number}" for t in tis))
