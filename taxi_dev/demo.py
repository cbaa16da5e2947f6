"""The main job on the local default: start the stack, put sample months on the taxi file server,
run the workflows through Airflow for January to March 2021, and print what they wrote:

- check_connections first (SELECT 1 on PostgreSQL and BigQuery, the bucket),
- taxi_web_to_postgres, taxi_web_to_gcs and taxi_gcs_to_bigquery for each month,
- taxi_daily_trips_to_gcs for the first day of each month.

    make demo            (or: python -m taxi_dev.demo [--months 2021-01 2021-02 ...])

Each run is `airflow dags test <dag_id> <date>`, the command the README shows; Airflow's own
output goes to <state>/run/demo-<dag_id>-<date>.log.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import time

import psycopg

from taxi_dev import sample_data
from taxi_dev.stack import Stack
from taxi_flows import settings
from taxi_flows.core import schema, source
from taxi_flows.core.months import month_start

MONTHLY_DAGS = ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery")
DAILY_DAG = "taxi_daily_trips_to_gcs"
# Sample sizes for the demo months: big enough to show the quirks, small enough to be quick.
DEMO_ROWS = {"yellow": 100_000, "green": 20_000}


def ensure_sample_months(stack: Stack, months: list[str]) -> None:
    for color in schema.COLORS:
        for m in months:
            month = month_start(m)
            path = stack.s.files_dir / color / source.trip_file_name(color, month)
            if not path.exists():
                sample_data.write_trips(path, color, month, DEMO_ROWS[color])
                print(f"sample file     {path.relative_to(stack.s.state_dir)} ({DEMO_ROWS[color]:,} rows)")


def run_dag(stack: Stack, dag_id: str, date: str) -> bool:
    log = stack.s.run_dir / f"demo-{dag_id}-{date}.log"
    started = time.monotonic()
    with open(log, "w") as out:
        result = subprocess.run(
            stack.airflow_argv("dags", "test", dag_id, date),
            env=stack.env(),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    ok = result.returncode == 0 and "state=success" in log.read_text()
    status = "success" if ok else "FAILED"
    print(f"airflow dags test {dag_id} {date}: {status} in {time.monotonic() - started:.0f} s")
    if not ok:
        print(f"--- last lines of {log} ---")
        print("\n".join(log.read_text().splitlines()[-30:]))
    return ok


def print_written(stack: Stack) -> None:
    from taxi_flows.gcs import layout, storage

    os.environ.update(stack.s.airflow_env())  # the GCS emulator and its connection, for the client
    client, bucket = storage.client(), stack.s.gcs_bucket
    blobs = list(client.list_blobs(bucket))
    print(f"\nWritten to gs://{bucket} (the GCS emulator at {stack.s.gcs_url}, files in {stack.s.gcs_dir}):")
    for color in schema.COLORS:
        for blob in sorted((b for b in blobs if b.name.startswith(f"{color}/")), key=lambda b: b.name):
            print(f"  gs://{bucket}/{blob.name:<42} {blob.size / 1e6:6.2f} MB")
        parts = [b for b in blobs if b.name.startswith(layout.dataset_prefix(color))]
        dates = {b.name.split("/")[1] for b in parts}
        print(f"  gs://{bucket}/{layout.dataset_prefix(color):<42} {len(parts)} files in {len(dates)} date partitions")


def print_bigquery(stack: Stack) -> None:
    from taxi_flows.bigquery import queries, tables

    os.environ.update(stack.s.airflow_env())  # the BigQuery emulator and its connection, for the client
    bq = queries.client(settings.GCP_CONN_ID)
    dataset = f"{bq.project}.{stack.s.bq_dataset}"
    print(f"\nLoaded into BigQuery {dataset} (the emulator at {stack.s.bq_url}):")
    print(f"  {'table':<42} {'source_month':<13} {'rows':>9}  partitions (pickup dates)")
    for color in schema.COLORS:
        table = f"{dataset}.{tables.trips_table(color)}"
        query = (
            f"SELECT source_month, COUNT(*) AS n, COUNT(DISTINCT {schema.trip_schema(color).pickup_date}) AS days "
            f"FROM `{table}` GROUP BY 1 ORDER BY 1"
        )
        for row in bq.query(query).result():
            print(f"  {table:<42} {row.source_month:%Y-%m}       {row.n:>9,}  {row.days}")
    zones = f"{dataset}.{schema.ZONE_TABLE}"
    print(f"  {zones:<42} {'':<13} {queries.table_rows(bq, zones):>9,}")


def print_loaded(stack: Stack) -> None:
    print(f"\nLoaded into {stack.s.pg_uri(stack.s.target_db)} (schema {settings.POSTGRES_SCHEMA}):")
    print(f"  {'table':<28} {'source_month':<13} {'rows':>9}  pickup dates")
    with psycopg.connect(stack.s.pg_uri(stack.s.target_db)) as conn:
        for color in schema.COLORS:
            sch = schema.trip_schema(color)
            table = f"{settings.POSTGRES_SCHEMA}.{sch.table}"
            if conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is None:
                continue
            rows = conn.execute(
                f"SELECT source_month, count(*), min({sch.pickup_date}), max({sch.pickup_date}) "
                f"FROM {table} GROUP BY 1 ORDER BY 1"
            ).fetchall()
            for month, n, first, last in rows:
                print(f"  {table:<28} {month:%Y-%m}       {n:>9,}  {first} … {last}")
        zones = f"{settings.POSTGRES_SCHEMA}.{schema.ZONE_TABLE}"
        if conn.execute("SELECT to_regclass(%s)", [zones]).fetchone()[0]:
            n = conn.execute(f"SELECT count(*) FROM {zones}").fetchone()[0]
            print(f"  {zones:<28} {'':<13} {n:>9,}")


def print_hints(stack: Stack) -> None:
    print(
        f"\nExplore:  psql -h 127.0.0.1 -p {stack.s.pg_port} -U {stack.s.pg_user} {stack.s.target_db}\n"
        f"Airflow:  source {stack.s.state_dir / 'env.sh'}   (then any airflow command, e.g. airflow dags list)\n"
        f"GCS:      STORAGE_EMULATOR_HOST={stack.s.gcs_url} (the env file sets it), objects under {stack.s.gcs_dir}\n"
        f"BigQuery: BIGQUERY_EMULATOR_HOST={stack.s.bq_url} (the env file sets it)\n"
        "UI:       make ui        Stop:  make stack-down        Wipe:  make reset"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--months", nargs="+", default=["2021-01", "2021-02", "2021-03"], help="YYYY-MM")
    args = parser.parse_args(argv)
    stack = Stack()
    stack.up()
    ensure_sample_months(stack, args.months)
    results = [run_dag(stack, "check_connections", args.months[0] + "-01")]
    for month in args.months:
        results += [run_dag(stack, dag_id, f"{month}-01") for dag_id in MONTHLY_DAGS]
        results.append(run_dag(stack, DAILY_DAG, f"{month}-01"))
    print_loaded(stack)
    print_written(stack)
    print_bigquery(stack)
    print_hints(stack)
    if not all(results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
