"""What `make demo` prints at the end: the runs it made, and what is loaded where (PostgreSQL, the
bucket, BigQuery, the stored coverage counts), then where to look next."""

from __future__ import annotations

import os

import psycopg

from taxi_dev.stack import Stack
from taxi_flows import settings
from taxi_flows.core import schema


def print_runs(airflow_meta, dag_ids, since) -> bool:
    """The runs that ended since the demo began, per DAG: type, state and what each loaded (its note,
    which the bundle's listener writes: the month, or its Asset events' months); False if one failed."""
    print("\nAirflow runs of this demo (DAG, run type, state: what the run loaded, as its note says):")
    failed = False
    for dag_id in dag_ids:
        notes = airflow_meta.run_notes(dag_id)
        for run_id, run_type, state in airflow_meta.ended_runs(dag_id, ended_after=since):
            failed |= state == "failed"
            said = (notes.get(run_id) or "").replace("\n\n", " ").strip() or run_id
            print(f"  {dag_id:<26} {run_type:<16} {state:<8} {said}")
    return not failed


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
        if not parts:  # a trip type the demo did not load
            continue
        dates = {b.name.split("/")[1] for b in parts}
        print(f"  gs://{bucket}/{layout.dataset_prefix(color):<42} {len(parts)} files in {len(dates)} date partitions")


def print_bigquery(stack: Stack) -> None:
    from google.api_core.exceptions import NotFound

    from taxi_flows.bigquery import queries, tables

    os.environ.update(stack.s.airflow_env())  # the BigQuery emulator and its connection, for the client
    bq = queries.client(settings.GCP_CONN_ID)
    dataset = f"{bq.project}.{stack.s.bq_dataset}"
    print(f"\nLoaded into BigQuery {dataset} (the emulator at {stack.s.bq_url}):")
    print(f"  {'table':<42} {'source_month':<13} {'rows':>9}  partitions (pickup dates)")
    for color in schema.COLORS:
        table = f"{dataset}.{tables.trips_table(color)}"
        try:  # taxi_gcs_to_bigquery creates the tables of the trip types it loads only
            bq.get_table(table)
        except NotFound:
            continue
        query = (
            f"SELECT source_month, COUNT(*) AS n, COUNT(DISTINCT {schema.trip_schema(color).pickup_date}) AS days "
            f"FROM `{table}` GROUP BY 1 ORDER BY 1"
        )
        for row in bq.query(query).result():
            print(f"  {table:<42} {row.source_month:%Y-%m}       {row.n:>9,}  {row.days}")
    zones = f"{dataset}.{schema.ZONE_TABLE}"
    print(f"  {zones:<42} {'':<13} {queries.table_rows(bq, zones):>9,}")


def print_loaded(stack: Stack) -> None:
    print(f"\nLoaded into {stack.s.pg_uri(stack.s.target_db, password=False)} (schema {settings.POSTGRES_SCHEMA}):")
    print(f"  {'table':<28} {'source_month':<13} {'rows':>9} {'clean':>9}  pickup dates")
    with psycopg.connect(stack.s.pg_uri(stack.s.target_db)) as conn:
        for color in schema.COLORS:
            sch = schema.trip_schema(color)
            table = f"{settings.POSTGRES_SCHEMA}.{sch.table}"
            if conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0] is None:
                continue
            rows = conn.execute(
                f"SELECT source_month, count(*), count(*) FILTER (WHERE {sch.clean_condition or 'NULL'}), "
                f"min({sch.pickup_date}), max({sch.pickup_date}) FROM {table} GROUP BY 1 ORDER BY 1"
            ).fetchall()
            for month, n, clean, first, last in rows:
                print(f"  {table:<28} {month:%Y-%m}       {n:>9,} {clean:>9,}  {first} … {last}")
        view = f"{settings.POSTGRES_SCHEMA}.<color>_tripdata_clean"
        print(f"  (rows: every row of the file; clean: the course's cleaning, the view {view})")
        zones = f"{settings.POSTGRES_SCHEMA}.{schema.ZONE_TABLE}"
        if conn.execute("SELECT to_regclass(%s)", [zones]).fetchone()[0]:
            n = conn.execute(f"SELECT count(*) FROM {zones}").fetchone()[0]
            print(f"  {zones:<28} {'':<13} {n:>9,}")


def print_coverage(stack: Stack) -> None:
    """The counts taxi_reconcile stored (ny_taxi.taxi_coverage), one line per colour and month."""
    from taxi_flows.coverage import store
    from taxi_flows.coverage.counts import grid

    with psycopg.connect(stack.s.pg_uri(stack.s.target_db)) as conn:
        counts, run_id, checked = store.read_counts(conn)
    if not counts:
        print("\nNo coverage counts stored yet (taxi_reconcile has not run)")
        return
    print(f"\nWhat is loaded where ({store.COVERAGE}, counted by taxi_reconcile {run_id} at {checked:%H:%M:%S}):")
    print(f"  {'colour':<7} {'month':<8}" + "".join(f" {t:>12}" for t in store.TARGETS) + "  agree")
    for (color, month), found in grid(counts).items():
        cells = "".join(f" {found[t].rows:>12,}" if t in found else f" {'-':>12}" for t in store.TARGETS)
        print(f"  {color:<7} {month:<8}{cells}  {'yes' if len({c.rows for c in found.values()}) == 1 else 'NO'}")


def print_hints(stack: Stack, ui: bool) -> None:
    api = f"http://127.0.0.1:{stack.s.api_port}"
    if ui:
        print(
            f"\nThe Airflow UI is up: {api}  (the runs above, each with its note; the Asset graph; a DAG's "
            "Backfills tab)\n"
            f"Taxi coverage:  {api}/plugin/taxi_coverage  (the grid, each month's checks and rows)\n"
            "The components keep running: make stack-down stops them and the stack; make ui runs them in a terminal."
        )
    else:
        print("\nUI:       make ui")
    print(
        f"Airflow:  source {stack.s.state_dir / 'env.sh'}   (then any airflow command, e.g. airflow dags list)\n"
        f"Explore:  psql -h 127.0.0.1 -p {stack.s.pg_port} -U {stack.s.pg_user} {stack.s.target_db}   (after the "
        "source line: it sets PGPASSWORD)\n"
        f"GCS:      STORAGE_EMULATOR_HOST={stack.s.gcs_url} (the env file sets it), objects under {stack.s.gcs_dir}\n"
        f"BigQuery: BIGQUERY_EMULATOR_HOST={stack.s.bq_url} (the env file sets it)\n"
        "Stop:     make stack-down        Wipe:  make reset"
    )


def print_everything(stack: Stack, ui: bool) -> None:
    print_loaded(stack)
    print_written(stack)
    print_bigquery(stack)
    print_coverage(stack)
    print_hints(stack, ui)
