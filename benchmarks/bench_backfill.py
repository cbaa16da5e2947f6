"""Benchmark: wall time of a one-month and a three-month backfill, end to end, on the local stack.

    make bench-backfill     (or: python benchmarks/bench_backfill.py [--rows 100000] [--dag taxi_web_to_postgres])

In one run, on a stack of its own (PostgreSQL, file server, emulators) with the real Airflow
components (api-server, scheduler, dag-processor, LocalExecutor with parallelism 4), it times
`airflow backfill create` of one month, then of three other months, of one colour, from the
command to the backfill's completion (every run done), and reports how the time scales with the
number of months. Sample months of --rows rows are written first (not timed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO)]

from taxi_dev import sample_data  # noqa: E402
from taxi_dev.settings import StackSettings  # noqa: E402
from taxi_dev.stack import Stack  # noqa: E402
from taxi_flows.core import source  # noqa: E402

COMPONENT_ENV = {"TAXI_CATCHUP": "false", "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5"}


def wait_backfill(stack: Stack, dag_id: str, months: list[dt.date], timeout: float = 1800) -> None:
    """Until the scheduler marks the backfill complete (polling the metadata database); every run
    of the months must have succeeded."""
    import os

    os.environ.update(stack.s.airflow_env())
    from airflow.models import DagRun
    from airflow.models.backfill import Backfill
    from airflow.utils.session import create_session

    wanted = {dt.datetime.combine(m, dt.time(), tzinfo=dt.UTC) for m in months}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with create_session() as session:
            backfills = session.query(Backfill).filter(Backfill.dag_id == dag_id).all()
            done = bool(backfills) and all(b.completed_at is not None for b in backfills)
            runs = session.query(DagRun).filter(DagRun.dag_id == dag_id, DagRun.run_type == "backfill").all()
            states = {r.logical_date: str(r.state) for r in runs if r.logical_date in wanted}
        if done and len(states) == len(wanted):
            failed = [k for k, s in states.items() if s != "success"]
            if failed:
                raise SystemExit(f"backfill runs did not succeed: {failed}")
            return
        time.sleep(0.5)
    raise SystemExit(f"the backfill of {dag_id} did not finish within {timeout:.0f} s")


def timed_backfill(stack: Stack, dag_id: str, color: str, months: list[dt.date]) -> float:
    started = time.monotonic()
    stack.airflow(
        "backfill",
        "create",
        "--dag-id",
        dag_id,
        "--from-date",
        months[0].isoformat(),
        "--to-date",
        months[-1].isoformat(),
        "--dag-run-conf",
        json.dumps({"colors": [color]}),
        quiet=True,
    )
    wait_backfill(stack, dag_id, months)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000, help="rows of each sample month")
    parser.add_argument("--dag", default="taxi_web_to_postgres")
    parser.add_argument("--color", default="yellow")
    args = parser.parse_args()
    one = [dt.date(2020, 1, 1)]
    three = [dt.date(2020, 4, 1), dt.date(2020, 5, 1), dt.date(2020, 6, 1)]
    stack = Stack(StackSettings.temporary(prefix="taxi-flows-bench-"))
    try:
        stack.up()
        for month in one + three:
            path = stack.s.files_dir / args.color / source.trip_file_name(args.color, month)
            sample_data.write_trips(path, args.color, month, args.rows)
        stack.start_airflow(COMPONENT_ENV)
        stack.airflow("dags", "reserialize", quiet=True)
        stack.airflow("dags", "unpause", args.dag, quiet=True)
        t1 = timed_backfill(stack, args.dag, args.color, one)
        t3 = timed_backfill(stack, args.dag, args.color, three)
    finally:
        stack.stop_airflow()
        stack.down()
        shutil.rmtree(stack.s.state_dir, ignore_errors=True)
    print(
        json.dumps(
            {"dag": args.dag, "rows_per_month": args.rows, "one_month_s": round(t1, 1), "three_months_s": round(t3, 1)}
        )
    )
    print(
        f"\n{args.dag}, {args.color}, {args.rows:,}-row months, LocalExecutor (parallelism 4), 2 cores\n"
        f"one-month backfill     {t1:6.1f} s\n"
        f"three-month backfill   {t3:6.1f} s   ({t3 / 3:.1f} s a month; {t3 / t1:.2f}x the one-month time)"
    )


if __name__ == "__main__":
    main()
