"""End to end on the CeleryExecutor, as Cloud Composer runs tasks: Redis (the broker) and two
`airflow celery worker` processes, each with a HOME and a TMPDIR of its own, beside the
api-server, scheduler, dag-processor and triggerer (taxi_dev.celery_stack).

A three-month backfill of taxi_web_to_postgres and taxi_web_to_gcs, whose Asset events run
taxi_gcs_to_bigquery and taxi_reconcile. While the middle month, a bigger file, is being copied
into PostgreSQL, the worker running that task is killed with SIGKILL, its whole process group
(the worker, its pool, the task process: a machine lost). The scheduler finds the task without a
heartbeat; its retry runs on the other worker, and every month is whole, once, in every target.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal

import pytest
from support.e2e import COMPONENT_ENV, expected_rows, registered_dags, wait_for

from taxi_dev import airflow_meta, celery_stack, procs, sample_data
from taxi_dev.airflow_meta import dag_runs
from taxi_dev.airflow_meta import task_states as _task_states
from taxi_dev.stack import Stack
from taxi_flows.core.months import month_start
from taxi_flows.core.schema import COLORS
from taxi_flows.coverage.store import TARGETS

# The CeleryExecutor on the main leg only: what it adds (Redis, the workers, a lost one) is the
# same on every leg; the other e2e tests run the scheduler of each Airflow release.
pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.depends_on()]

COLOR = "yellow"
MONTHS = ("2020-10", "2020-11", "2020-12")
BIG = "2020-11"  # the month whose load is cut short: long enough to be caught while it copies
BIG_ROWS = 400_000
DAGS = ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery", "taxi_reconcile")
CELERY_ENV = {
    **COMPONENT_ENV,
    # A task whose worker is gone is failed after 30 s without a heartbeat (Airflow's default: 5
    # minutes), and its retry waits 5 s (the bundle's default: 60).
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "30",
    "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
    "TAXI_RETRY_DELAY_SECONDS": "5",
}


@pytest.fixture(scope="module")
def celery(stack):
    s = stack.s.with_executor("CeleryExecutor")
    on_celery = Stack(s)
    try:
        on_celery.start_airflow(CELERY_ENV, timeout=240)
        yield on_celery
    finally:
        on_celery.stop_airflow()
        celery_stack.stop(s)


def _load_tasks(dag_id: str = "taxi_web_to_postgres", task_id: str = "load_trips") -> list[tuple]:
    """(month, try_number, state, hostname) of every try of the yellow load, history included."""
    from airflow.models import TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session

    with create_session() as session:
        rows = []
        for model in (TaskInstanceHistory, TaskInstance):
            for ti in session.query(model).filter(
                model.dag_id == dag_id, model.task_id == task_id, model.map_index == COLORS.index(COLOR)
            ):
                rows.append((ti.run_id, ti.try_number, ti.state, ti.hostname))
    return rows


def _hostnames(dag_ids=DAGS) -> set[str]:
    from airflow.models import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        return {ti.hostname for ti in session.query(TaskInstance).filter(TaskInstance.dag_id.in_(dag_ids))}


def _copying(conn) -> int:
    """Rows a COPY into the target database has taken so far (the biggest, if several run)."""
    row = conn.execute("SELECT max(tuples_processed) FROM pg_stat_progress_copy").fetchone()
    return row[0] or 0


def _kill_worker(s, name: str) -> list[int]:
    """SIGKILL the worker's whole process group, and any descendant that left it."""
    import psutil

    pid = procs.read_pid(s.run_dir / f"{name}.pid")
    assert pid, name
    assert procs.pid_alive(pid), name
    family = [pid, *(p.pid for p in psutil.Process(pid).children(recursive=True))]
    os.killpg(pid, signal.SIGKILL)
    for p in family:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    procs.wait_until(lambda: not any(procs.pid_alive(p) for p in family), f"{name} gone", 30)
    return family


def _listening(s) -> dict[str, set[str]]:
    """The addresses Redis and the workers (and their children) listen on."""
    import psutil

    names = ("redis", *celery_stack.WORKERS)
    family = {}
    for name in names:
        pid = procs.read_pid(s.run_dir / f"{name}.pid")
        for p in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
            family[p.pid] = name
    found: dict[str, set[str]] = {}
    for c in psutil.net_connections(kind="inet"):
        if c.status == psutil.CONN_LISTEN and c.pid in family:
            found.setdefault(family[c.pid], set()).add(c.laddr.ip)
    return found


def _all_idle() -> bool:
    if any(airflow_meta.queued_assets(d) for d in ("taxi_gcs_to_bigquery", "taxi_reconcile")):
        return False
    return not any(r[2] in ("queued", "running") for d in DAGS for r in dag_runs(d))


def _coverage(s) -> dict:
    import psycopg

    with psycopg.connect(s.pg_uri(s.target_db)) as conn:
        rows = conn.execute(
            "SELECT to_char(source_month, 'YYYY-MM'), target, rows FROM ny_taxi.taxi_coverage WHERE color = %s",
            (COLOR,),
        ).fetchall()
    return {(m, t): n for m, t, n in rows if m in MONTHS}


@pytest.mark.timeout(1200)
def test_a_backfill_on_two_celery_workers_survives_a_lost_worker(celery, pg, bucket):
    import psycopg

    from taxi_flows import settings
    from taxi_flows.bigquery import queries

    s = celery.s
    # Redis listens on 127.0.0.1 only; the workers not at all (no log server).
    assert _listening(s) == {"redis": {"127.0.0.1"}}
    # Every target empty (pg and bucket, and BigQuery here): the earlier e2e tests leave a month
    # that taxi_reconcile must fail on (rows deleted on purpose).
    bq = queries.client(settings.GCP_CONN_ID)
    bq.delete_dataset(f"{bq.project}.{s.bq_dataset}", delete_contents=True, not_found_ok=True)
    sample_data.write_trips(s.files_dir / COLOR / f"{COLOR}_tripdata_{BIG}.csv.gz", COLOR, month_start(BIG), BIG_ROWS)
    for dag_id in DAGS:
        airflow_meta.delete_runs(dag_id)  # earlier tests' runs: a backfill skips a month that has one
        airflow_meta.clear_queue(dag_id)
    since = dt.datetime.now(tz=dt.UTC)
    for dag_id in DAGS:
        wait_for(lambda d=dag_id: d in registered_dags(), f"the dag-processor registering {dag_id}", 180)
        airflow_meta.set_paused(dag_id, False)
    for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs"):
        celery.airflow(
            "backfill", "create", "--dag-id", dag_id, "--from-date", f"{MONTHS[0]}-01", "--to-date",
            f"{MONTHS[-1]}-01", "--dag-run-conf", json.dumps({"colors": [COLOR]}), quiet=True,
        )  # fmt: skip

    # The big month's rows are going into PostgreSQL: kill the worker that copies them.
    with psycopg.connect(s.pg_uri(s.target_db), autocommit=True) as conn:
        wait_for(lambda: _copying(conn) > 20_000, f"{COLOR} {BIG} being copied", 300, every=0.1)
        copied = _copying(conn)
    running = [t for t in _load_tasks() if t[2] == "running" and BIG in t[0]]
    assert len(running) == 1, _load_tasks()
    lost = running[0][3].split("@")[0]
    assert lost in celery_stack.WORKERS, running
    _kill_worker(s, lost)
    assert copied < BIG_ROWS, copied  # it was cut short

    def ended(dag_id):
        runs = [r for r in dag_runs(dag_id) if r[0] == "backfill"]
        return len(runs) == len(MONTHS) and all(r[2] in ("success", "failed") for r in runs)

    wait_for(
        lambda: ended("taxi_web_to_postgres") and ended("taxi_web_to_gcs"),
        "the backfills",
        600,
        diagnose=lambda: _task_states("taxi_web_to_postgres"),
    )
    for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs"):
        assert [r[2] for r in dag_runs(dag_id) if r[0] == "backfill"] == ["success"] * 3, _task_states(dag_id)

    # The killed try failed without a heartbeat; the retry ran on the other worker.
    tries = sorted((t[1], t[2], t[3].split("@")[0]) for t in _load_tasks() if BIG in t[0])
    other = next(w for w in celery_stack.WORKERS if w != lost)
    assert tries[0][::2] == (1, lost), tries
    assert tries[-1] == (tries[-1][0], "success", other), tries
    # Both workers ran tasks (the killed one, at least the try it lost).
    assert {h.split("@")[0] for h in _hostnames() if h} == set(celery_stack.WORKERS)

    # The Asset events ran taxi_gcs_to_bigquery and taxi_reconcile on the workers; when all is idle,
    # the last count has every month whole, once, in every target.
    wait_for(_all_idle, "taxi_gcs_to_bigquery and taxi_reconcile on the Asset events", 600, every=3,
             diagnose=lambda: _task_states("taxi_gcs_to_bigquery") + _task_states("taxi_reconcile"))  # fmt: skip
    # (Unpaused without catch-up, it also ran its latest scheduled month, 2021-07, which may fail:
    # taxi_web_to_gcs was writing it at the same time. Its event-triggered runs are the chain.)
    runs = [r for r in dag_runs("taxi_gcs_to_bigquery", ended_after=since) if r[0] == "asset_triggered"]
    assert runs, _task_states("taxi_gcs_to_bigquery")
    assert all(r[2] == "success" for r in runs), _task_states("taxi_gcs_to_bigquery")
    if _coverage(s) != _expected(s) or airflow_meta.ended_runs("taxi_reconcile")[-1][2] != "success":
        # A count that ran beside a load may have seen it half-way (the DAG's doc): count once more.
        celery.airflow("dags", "trigger", "taxi_reconcile", quiet=True)
        wait_for(_all_idle, "taxi_reconcile", 300, every=3)
    last = airflow_meta.ended_runs("taxi_reconcile")[-1]
    assert last[2] == "success", airflow_meta.run_notes("taxi_reconcile").get(last[0])
    assert _coverage(s) == _expected(s)
    with psycopg.connect(s.pg_uri(s.target_db)) as conn:
        rows = conn.execute(
            f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM ny_taxi.{COLOR}_tripdata "
            "WHERE source_month BETWEEN %s AND %s GROUP BY 1 ORDER BY 1",
            (month_start(MONTHS[0]), month_start(MONTHS[-1])),
        ).fetchall()
    assert dict(rows) == {m: expected_rows(s.files_dir, m, COLOR) for m in MONTHS}


def _expected(s) -> dict:
    return {(m, t): expected_rows(s.files_dir, m, COLOR) for m in MONTHS for t in TARGETS}
