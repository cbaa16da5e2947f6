"""Benchmark: a backfill at size on the CeleryExecutor's two workers against the LocalExecutor.

    make bench-backfill     (or: python benchmarks/bench_backfill.py [--rows 1369765] [--months 6])

In one run, on a stack of its own (PostgreSQL, file server, GCS and BigQuery emulators) with the
real Airflow components, six full-size yellow months (1,369,765 rows each, written first, not
timed) are backfilled through `taxi_web_to_postgres` and `taxi_web_to_gcs` at once:

1. on the LocalExecutor (the baseline: parallelism 4, the task processes children of the scheduler);
2. on the CeleryExecutor: Redis and two `airflow celery worker` processes of two task processes
   each (parallelism 4 too), as the local stack runs it (taxi_dev.celery_stack).

Between the two, the targets are emptied and the runs deleted, so both do the same first load.
Wall time is from the first `airflow backfill create` to both backfills' last run ending. Memory
is sampled every half second: for each worker (Celery) or the scheduler (Local), the summed RSS of
its process tree (the worker, its pool, the task supervisors and task processes; shared pages
count once per process, so it overstates), and the largest single task process.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import shutil
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO)]

from taxi_dev import celery_stack, procs, sample_data  # noqa: E402
from taxi_dev.settings import StackSettings  # noqa: E402
from taxi_dev.stack import Stack  # noqa: E402
from taxi_flows.core import source  # noqa: E402

DAGS = ("taxi_web_to_postgres", "taxi_web_to_gcs")
COLOR = "yellow"
COMPONENT_ENV = {"TAXI_CATCHUP": "false", "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5"}


class Peaks(threading.Thread):
    """Every half second: the summed RSS of each root's process tree, and the largest process in it."""

    def __init__(self, roots: dict[str, int]):
        super().__init__(daemon=True)
        self.roots, self.tree, self.largest = roots, dict.fromkeys(roots, 0.0), dict.fromkeys(roots, 0.0)
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.done.wait(0.5):
            for name, pid in self.roots.items():
                try:
                    family = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
                except psutil.NoSuchProcess:
                    continue
                sizes = []
                for p in family:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        sizes.append(p.memory_info().rss / 2**20)
                self.tree[name] = max(self.tree[name], sum(sizes))
                self.largest[name] = max(self.largest[name], max(sizes[1:], default=0.0))


def backfill_all(stack: Stack, months: list[dt.date]) -> float:
    from taxi_dev import airflow_meta

    started = time.monotonic()
    for dag_id in DAGS:
        stack.airflow(
            "backfill", "create", "--dag-id", dag_id, "--from-date", months[0].isoformat(), "--to-date",
            months[-1].isoformat(), "--dag-run-conf", json.dumps({"colors": [COLOR]}), quiet=True,
        )  # fmt: skip
    deadline = started + 3600
    while time.monotonic() < deadline:
        runs = [r for d in DAGS for r in airflow_meta.dag_runs(d) if r[0] == "backfill"]
        if len(runs) == len(DAGS) * len(months) and all(r[2] in ("success", "failed") for r in runs):
            failed = [r for r in runs if r[2] != "success"]
            if failed:
                raise SystemExit(f"backfill runs failed: {failed}\n{airflow_meta.task_states(DAGS[0])}")
            return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit("the backfills did not finish within an hour")


def empty_targets(stack: Stack) -> None:
    """Drop the loaded months everywhere and delete the runs: the next executor does the same first load."""
    import psycopg

    from taxi_dev import airflow_meta
    from taxi_flows.gcs import storage

    with psycopg.connect(stack.s.pg_uri(stack.s.target_db), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS ny_taxi CASCADE")
    client = storage.client()
    for blob in client.list_blobs(stack.s.gcs_bucket):
        blob.delete()
    for dag_id in DAGS:
        airflow_meta.delete_runs(dag_id)


def run_on(stack: Stack, months: list[dt.date]) -> dict:
    from taxi_dev import airflow_meta  # after main() pointed the environment at the stack

    pids = stack.start_airflow(COMPONENT_ENV, timeout=240)
    try:
        for dag_id in DAGS:
            airflow_meta.set_paused(dag_id, False)
        time.sleep(10)  # the scheduler's own runs of the latest month (no catch-up), out of the way
        for dag_id in DAGS:
            procs.wait_until(
                lambda d=dag_id: not any(r[2] in ("queued", "running") for r in airflow_meta.dag_runs(d)), dag_id, 600
            )
        roots = {n: pids[n] for n in celery_stack.WORKERS} if stack.s.celery else {"scheduler": pids["scheduler"]}
        peaks = Peaks(roots)
        peaks.start()
        seconds = backfill_all(stack, months)
        peaks.done.set()
        peaks.join()
        return {"seconds": seconds, "tree_rss_mb": peaks.tree, "largest_rss_mb": peaks.largest}
    finally:
        stack.stop_airflow()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=sample_data.FULL_ROWS[COLOR], help="rows of each month")
    parser.add_argument("--months", type=int, default=6)
    args = parser.parse_args()
    months = [dt.date(2020, m, 1) for m in range(1, args.months + 1)]
    local = StackSettings.temporary(prefix="taxi-flows-bench-")
    os.environ.update(local.airflow_env())
    stack = Stack(local)
    results = {}
    try:
        stack.up()
        for month in months:
            path = stack.s.files_dir / COLOR / source.trip_file_name(COLOR, month)
            sample_data.write_trips(path, COLOR, month, args.rows)
        results["LocalExecutor"] = run_on(stack, months)
        empty_targets(stack)
        results["CeleryExecutor"] = run_on(Stack(local.with_executor("CeleryExecutor")), months)
    finally:
        stack.stop_airflow()
        Stack(local.with_executor("CeleryExecutor")).stop_airflow()
        stack.down()
        shutil.rmtree(stack.s.state_dir, ignore_errors=True)
    print(json.dumps(results, indent=1))
    base = results["LocalExecutor"]["seconds"]
    what = f"{len(months)} months of {args.rows:,} rows, {COLOR}, through {' and '.join(DAGS)}"
    print(f"\n{what}; parallelism 4, 2 cores")
    for executor, r in results.items():
        memory = ", ".join(
            f"{name} {r['tree_rss_mb'][name]:.0f} MB (largest task {r['largest_rss_mb'][name]:.0f} MB)"
            for name in r["tree_rss_mb"]
        )
        print(f"{executor:<15} {r['seconds']:6.1f} s  ratio {r['seconds'] / base:.2f}   peak RSS: {memory}")


if __name__ == "__main__":
    main()
