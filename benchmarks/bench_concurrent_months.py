"""Benchmark: three months of one colour replaced at once vs the same three one after the other,
with a reader of another month querying the table throughout.

    make bench-concurrency        (or: python benchmarks/bench_concurrent_months.py [--rows 300000])

In one run, on a PostgreSQL and a taxi file server of its own (a temporary stack on free ports),
each month already loaded once (so every load replaces, as a reprocessing backfill does):

- baseline: the three replacements in sequence, each in a fresh process as the task runs it;
- ours: the same three started at once, in three processes;
- all along, a reader counts another month's rows every 20 ms; its worst latency is reported for
  each phase (a swap waits at most 1 s for the table before it gives way to readers).

It reports the wall times, their ratio (concurrent / sequential: below 1 means the overlap pays;
the machine's cores bound it) and the reader's worst latency.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO)]

from taxi_dev import sample_data  # noqa: E402
from taxi_dev.settings import StackSettings  # noqa: E402
from taxi_dev.stack import Stack  # noqa: E402
from taxi_flows import settings  # noqa: E402
from taxi_flows.core.months import month_start  # noqa: E402
from taxi_flows.core.source import trip_file_name  # noqa: E402

MONTHS = ["2021-04", "2021-05", "2021-06"]
READER_MONTH = "2021-01"
CHILD = """
import datetime as dt, sys
import psycopg
from taxi_flows.postgres.web_to_postgres import web_to_postgres
uri, base_url, month, pg_schema = sys.argv[1:5]
with psycopg.connect(uri, autocommit=True) as conn:
    web_to_postgres(conn, base_url, "yellow", dt.date.fromisoformat(month + "-01"), pg_schema)
"""


def load(stack: Stack, month: str) -> subprocess.Popen:
    argv = [sys.executable, "-c", CHILD, stack.s.pg_uri(stack.s.target_db), stack.s.source_base_url, month]
    env = {**stack.env(), "PYTHONPATH": f"{REPO / 'include'}:{REPO}"}
    return subprocess.Popen([*argv, settings.POSTGRES_SCHEMA], env=env)


def wait(processes: list[subprocess.Popen]) -> None:
    for p in processes:
        if p.wait() != 0:
            raise SystemExit(f"a load failed (exit {p.returncode})")


class Reader(threading.Thread):
    """Counts READER_MONTH's rows in a loop; keeps the worst latency."""

    def __init__(self, uri: str):
        super().__init__(daemon=True)
        self.uri, self.worst, self.queries = uri, 0.0, 0
        self.done = threading.Event()

    def run(self) -> None:
        query = f"SELECT count(*) FROM {settings.POSTGRES_SCHEMA}.yellow_tripdata WHERE source_month = %s"
        with psycopg.connect(self.uri, autocommit=True) as conn:
            while not self.done.is_set():
                started = time.monotonic()
                conn.execute(query, [month_start(READER_MONTH)]).fetchone()
                self.worst = max(self.worst, time.monotonic() - started)
                self.queries += 1
                time.sleep(0.02)

    def stop(self) -> dict:
        self.done.set()
        self.join()
        return {"worst_reader_seconds": round(self.worst, 3), "reader_queries": self.queries}


def timed(stack: Stack, concurrent: bool) -> dict:
    reader = Reader(stack.s.pg_uri(stack.s.target_db))
    reader.start()
    started = time.perf_counter()
    if concurrent:
        wait([load(stack, m) for m in MONTHS])
    else:
        for m in MONTHS:
            wait([load(stack, m)])
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), **reader.stop()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=300_000, help="rows of each month file")
    args = parser.parse_args()

    stack = Stack(StackSettings.temporary(prefix="taxi-flows-bench-"))
    try:
        stack.up(airflow=False)
        for m in [READER_MONTH, *MONTHS]:
            rows = 2_000 if m == READER_MONTH else args.rows
            path = stack.s.files_dir / "yellow" / trip_file_name("yellow", month_start(m))
            sample_data.write_trips(path, "yellow", month_start(m), rows)
        wait([load(stack, READER_MONTH)])
        for m in MONTHS:  # loaded once: what follows replaces
            wait([load(stack, m)])
        sequential = timed(stack, concurrent=False)
        concurrent = timed(stack, concurrent=True)
    finally:
        stack.down()
        shutil.rmtree(stack.s.state_dir, ignore_errors=True)

    ratio = concurrent["seconds"] / sequential["seconds"]
    print(json.dumps({"rows_per_month": args.rows, "sequential": sequential, "concurrent": concurrent}, indent=2))
    print(
        f"\n3 replacements in sequence (baseline)  {sequential['seconds']:6.2f} s, worst reader wait "
        f"{sequential['worst_reader_seconds']:.2f} s\n"
        f"3 replacements at once                 {concurrent['seconds']:6.2f} s, worst reader wait "
        f"{concurrent['worst_reader_seconds']:.2f} s\n"
        f"ratio (at once / in sequence)          {ratio:6.2f}"
    )


if __name__ == "__main__":
    main()
