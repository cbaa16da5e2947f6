"""The main job on the local default: start the stack, put sample months on the taxi file server,
run taxi_web_to_postgres through Airflow for January to March 2021, and print what was loaded.

    make demo            (or: python -m taxi_dev.demo [--months 2021-01 2021-02 ...])

Each month runs as `airflow dags test taxi_web_to_postgres YYYY-MM-01`, the command the README
shows; Airflow's own output goes to <state>/run/demo-YYYY-MM.log.
"""

from __future__ import annotations

import argparse
import subprocess
import time

import psycopg

from taxi_dev import sample_data
from taxi_dev.stack import Stack
from taxi_flows import config, schema, source

DAG_ID = "taxi_web_to_postgres"
# Sample sizes for the demo months: big enough to show the quirks, small enough to be quick.
DEMO_ROWS = {"yellow": 100_000, "green": 20_000}


def ensure_sample_months(stack: Stack, months: list[str]) -> None:
    for color in schema.COLORS:
        for m in months:
            month = source.month_start(m)
            path = stack.s.files_dir / color / source.trip_file_name(color, month)
            if not path.exists():
                sample_data.write_trips(path, color, month, DEMO_ROWS[color])
                print(f"sample file     {path.relative_to(stack.s.state_dir)} ({DEMO_ROWS[color]:,} rows)")


def run_month(stack: Stack, month: str) -> bool:
    log = stack.s.run_dir / f"demo-{month}.log"
    started = time.monotonic()
    with open(log, "w") as out:
        result = subprocess.run(
            stack.airflow_argv("dags", "test", DAG_ID, f"{month}-01"),
            env=stack.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    ok = result.returncode == 0 and "state=success" in log.read_text()
    status = "success" if ok else "FAILED"
    print(f"airflow dags test {DAG_ID} {month}-01: {status} in {time.monotonic() - started:.0f} s (log: {log})")
    if not ok:
        print("\n".join(log.read_text().splitlines()[-30:]))
    return ok


def print_loaded(stack: Stack) -> None:
    print(f"\nLoaded into {stack.s.pg_uri(stack.s.target_db)} (schema {config.POSTGRES_SCHEMA}):")
    print(f"  {'table':<28} {'source_month':<13} {'rows':>9}  pickup dates")
    with psycopg.connect(stack.s.pg_uri(stack.s.target_db)) as conn:
        for color in schema.COLORS:
            sch = schema.trip_schema(color)
            table = f"{config.POSTGRES_SCHEMA}.{sch.table}"
            if conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is None:
                continue
            rows = conn.execute(
                f"SELECT source_month, count(*), min({sch.pickup_date}), max({sch.pickup_date}) "
                f"FROM {table} GROUP BY 1 ORDER BY 1"
            ).fetchall()
            for month, n, first, last in rows:
                print(f"  {table:<28} {month:%Y-%m}       {n:>9,}  {first} … {last}")
        zones = f"{config.POSTGRES_SCHEMA}.{schema.ZONE_TABLE}"
        if conn.execute("SELECT to_regclass(%s)", [zones]).fetchone()[0]:
            n = conn.execute(f"SELECT count(*) FROM {zones}").fetchone()[0]
            print(f"  {zones:<28} {'':<13} {n:>9,}")
    print(
        f"\nExplore:  psql -h 127.0.0.1 -p {stack.s.pg_port} -U {stack.s.pg_user} {stack.s.target_db}\n"
        f"Airflow:  source {stack.s.state_dir / 'env.sh'}   (then any airflow command, e.g. airflow dags list)\n"
        "UI:       make ui        Stop:  make stack-down        Wipe:  make reset"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--months", nargs="+", default=["2021-01", "2021-02", "2021-03"], help="YYYY-MM")
    args = parser.parse_args(argv)
    stack = Stack()
    stack.up()
    ensure_sample_months(stack, args.months)
    results = [run_month(stack, month) for month in args.months]
    print_loaded(stack)
    if not all(results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
