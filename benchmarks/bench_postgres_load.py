"""Benchmark: a full-size yellow month through the DAG's load code vs `psql \\copy`, on one server.

    make bench        (or: python benchmarks/bench_postgres_load.py [--repeat 3])

In one run, on a PostgreSQL and a taxi file server of its own (a temporary stack on free ports):

- baseline: `psql -c "\\copy <plain table> FROM <file> (FORMAT csv, HEADER)"` of the month's
  decompressed CSV (decompressed beforehand, not timed) into a plain table with the source's
  columns, emptied before each run;
- ours: `taxi_flows.postgres.web_to_postgres.web_to_postgres`, in a fresh process, as the task runs it: download
  from the local file server, decompress, parse, transform, check and replace the month.

It reports the median wall times, their ratio (target <= 1.25), the load's peak RSS (target
<= 300 MB) and the peak RSS for a file three times larger (target: no growth).
The month is the generator's full-size yellow month (1,369,765 rows, as yellow 2021-01).
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO)]

from taxi_dev import sample_data  # noqa: E402
from taxi_dev.settings import StackSettings  # noqa: E402
from taxi_dev.stack import Stack  # noqa: E402
from taxi_flows.core import layouts, schema, source  # noqa: E402

MONTH = dt.date(2021, 1, 1)  # the full-size month
BIG_MONTH = dt.date(2021, 2, 1)  # three times larger

# The load, as the task runs it, in a fresh interpreter so its peak RSS is its own.
CHILD = """
import datetime as dt, json, re, sys, time
import psycopg
from taxi_flows.postgres.web_to_postgres import web_to_postgres
uri, base_url, month = sys.argv[1:4]
with psycopg.connect(uri, autocommit=True) as conn:
    started = time.perf_counter()
    summary = web_to_postgres(conn, base_url, "yellow", dt.date.fromisoformat(month), "ny_taxi")
    seconds = time.perf_counter() - started
# VmHWM: this process image's peak RSS (ru_maxrss would include the parent's memory before exec).
peak_kb = int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
print(json.dumps({"seconds": seconds, "rss_mb": peak_kb / 1024,
                  "rows_read": summary["rows_read"], "rows_written": summary["rows_written"]}))
"""


def run_ours(stack: Stack, month: dt.date) -> dict:
    env = {"PYTHONPATH": f"{REPO / 'include'}:{REPO}"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, stack.s.pg_uri(stack.s.target_db), stack.s.source_base_url, month.isoformat()],
        capture_output=True,
        text=True,
        check=True,
        env={**stack.env(), **env},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_copy(stack: Stack, csv_path: Path) -> float:
    psql = shutil.which("psql") or "psql"
    argv = [psql, "-X", "-q", "-h", "127.0.0.1", "-p", str(stack.s.pg_port), "-U", stack.s.pg_user, stack.s.target_db]
    env = {**os.environ, "PGPASSWORD": stack.s.pg_password}
    subprocess.run([*argv, "-c", "TRUNCATE bench_plain"], check=True, env=env)
    started = time.perf_counter()
    copy = f"\\copy bench_plain FROM '{csv_path}' (FORMAT csv, HEADER true)"
    subprocess.run([*argv, "-c", copy], check=True, env=env)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each (medians are reported)")
    args = parser.parse_args()

    stack = Stack(StackSettings.temporary(prefix="taxi-flows-bench-"))
    try:
        stack.up(airflow=False)
        rows = sample_data.FULL_ROWS["yellow"]
        files = stack.s.files_dir / "yellow"
        gz = sample_data.write_trips(files / source.trip_file_name("yellow", MONTH), "yellow", MONTH, rows)
        sample_data.write_trips(files / source.trip_file_name("yellow", BIG_MONTH), "yellow", BIG_MONTH, 3 * rows)
        plain = stack.s.state_dir / "plain.csv"
        with gzip.open(gz) as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
        print(f"file: {rows:,} rows, {gz.stat().st_size / 1e6:.1f} MB gzipped, {plain.stat().st_size / 1e6:.1f} MB CSV")

        sch, lay = schema.trip_schema("yellow"), layouts.layout_of("yellow", layouts.MIRROR, MONTH)
        columns = ", ".join(f'"{name}" {sch.kind(target).postgres}' for name, target in lay.columns)
        with psycopg.connect(stack.s.pg_uri(stack.s.target_db), autocommit=True) as conn:
            conn.execute(f"CREATE TABLE bench_plain ({columns})")

        run_ours(stack, MONTH)  # warm-up: creates the table and the month's partition
        copy_times, ours = [], []
        for _ in range(args.repeat):
            copy_times.append(run_copy(stack, plain))
            ours.append(run_ours(stack, MONTH))
        big_runs = [run_ours(stack, BIG_MONTH) for _ in range(2)]
    finally:
        stack.down()
        shutil.rmtree(stack.s.state_dir, ignore_errors=True)

    t_copy = statistics.median(copy_times)
    t_ours = statistics.median(r["seconds"] for r in ours)
    rss = max(r["rss_mb"] for r in ours)
    rss_big = max(r["rss_mb"] for r in big_runs)
    t_big = statistics.median(r["seconds"] for r in big_runs)
    result = {
        "rows": rows,
        "rows_written": ours[0]["rows_written"],
        "copy_seconds": round(t_copy, 2),
        "load_seconds": round(t_ours, 2),
        "ratio": round(t_ours / t_copy, 2),
        "load_peak_rss_mb": round(rss),
        "load_3x_seconds": round(t_big, 2),
        "load_3x_peak_rss_mb": round(rss_big),
        "runs": {"copy": [round(t, 2) for t in copy_times], "load": [round(r["seconds"], 2) for r in ours]},
    }
    print(json.dumps(result, indent=2))
    print(
        f"\npsql \\copy (baseline)            {t_copy:6.2f} s\n"
        f"web_to_postgres (download+load)  {t_ours:6.2f} s   ratio {t_ours / t_copy:.2f}  (target <= 1.25)\n"
        f"peak RSS of the load             {rss:6.0f} MB  (target <= 300)\n"
        f"same load, file 3x larger        {t_big:6.2f} s, peak RSS {rss_big:.0f} MB  (target: no growth)"
    )


if __name__ == "__main__":
    main()
