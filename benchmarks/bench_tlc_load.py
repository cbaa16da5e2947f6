"""Benchmark: a full-size fhvhv month of the TLC's Parquet files through both loads, each against a baseline.

    make bench-tlc    (or: python benchmarks/bench_tlc_load.py [--rows N] [--repeat 3])

In one run, on a PostgreSQL, a GCS emulator and a taxi file server of its own (a temporary stack),
with one synthetic TLC file of fhvhv 2024-01 in its real layout (taxi_dev.tlc_files: 19,663,930
rows, as the real month, in row groups of 100,000, snappy), each in a fresh process:

- PostgreSQL. Baseline: `psql -c "\\copy <plain table> FROM <csv> (FORMAT csv, HEADER)"` of the
  same rows as CSV (written beforehand, not timed) into a plain table with the file's columns,
  emptied before each run. Ours: `taxi_flows.postgres.web_to_postgres.web_to_postgres` as the task
  runs it: download the file from the local server, read it a row group at a time, fit each column,
  check, replace the month. Targets: ratio <= 1.25, peak RSS <= 400 MB.
- GCS. Baseline: DuckDB (the version of the benchmark's environment: .venv-bq) reads the same
  Parquet file, renames and casts its columns to the table's and writes the monthly file and the
  pickup-date dataset, `COPY (SELECT …) TO … (FORMAT parquet, PARTITION_BY (pickup_date))`, to a
  local folder. Ours: `taxi_flows.gcs.web_to_gcs.web_to_gcs`: download, the same two outputs
  written locally, then uploaded to the emulator. Targets: faster than DuckDB (upload included),
  peak RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO)]

from bench_gcs_load import PEAK, duckdb_script  # noqa: E402
from bench_postgres_load import run_copy  # noqa: E402

from taxi_dev import tlc_files  # noqa: E402
from taxi_dev.settings import StackSettings  # noqa: E402
from taxi_dev.stack import Stack, bigquery_venv  # noqa: E402
from taxi_flows.core import layouts, schema  # noqa: E402
from taxi_flows.core.dictionary import Kind  # noqa: E402

COLOR, MONTH, ROWS = "fhvhv", dt.date(2024, 1, 1), 19_663_930  # the real month's rows
DUCK_TYPES = {Kind.INT: "BIGINT", Kind.FLOAT: "DOUBLE", Kind.STRING: "VARCHAR", Kind.TIMESTAMP: "TIMESTAMP"}

POSTGRES = (
    PEAK
    + """
import datetime as dt, json, sys, time
import psycopg
from taxi_flows.postgres.web_to_postgres import web_to_postgres
uri, base_url, tlc_url, color, month = sys.argv[1:6]
with psycopg.connect(uri, autocommit=True) as conn:
    started = time.perf_counter()
    s = web_to_postgres(conn, base_url, color, dt.date.fromisoformat(month), "ny_taxi", tlc_base_url=tlc_url,
                        source_name="tlc")
print(json.dumps({"seconds": time.perf_counter() - started, "rows": s["rows_written"], "rss_mb": peak_mb()}))
"""
)

GCS = (
    PEAK
    + """
import datetime as dt, json, os, sys, threading, time
from taxi_flows.gcs import storage, web_to_gcs
_, base_url, tlc_url, color, month = sys.argv[1:6]
client = storage.client()
samples = []  # (seconds, VmRSS MB), to tell the encoding's peak from the uploads'
def sample():
    while True:
        rss = int(re.search(r"VmRSS:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
        samples.append((time.perf_counter() - started, rss))
        time.sleep(0.2)
started = time.perf_counter()
threading.Thread(target=sample, daemon=True).start()
s = web_to_gcs.web_to_gcs(client, os.environ["AIRFLOW_VAR_TAXI_GCS_BUCKET"], base_url, color,
                          dt.date.fromisoformat(month), tlc_base_url=tlc_url, source_name="tlc")
seconds = time.perf_counter() - started
encoded = seconds - s["seconds_upload"]
print(json.dumps({"seconds": seconds, "upload_seconds": s["seconds_upload"],
                  "rss_encoding_mb": max((r for t, r in samples if t < encoded), default=0),
                  "rss_upload_mb": max((r for t, r in samples if t >= encoded), default=0),
                  "rows": s["rows_written"], "files": s["partitions"] + 1, "rss_mb": peak_mb()}))
"""
)

# The month as the table's columns (source: duckdb_select's statement), both outputs.
DUCKDB = duckdb_script(
    """
con.execute(f"CREATE VIEW month AS {source}")
con.execute(f"COPY (SELECT * FROM month) TO '{out}/month.parquet' (FORMAT parquet)")
con.execute(f"COPY (SELECT * FROM month) TO '{out}/dataset' (FORMAT parquet, PARTITION_BY (pickup_date))")
rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}/dataset/*/*.parquet')").fetchone()[0]
"""
)


def duckdb_select(path: Path) -> str:
    """The file's columns as the table's (names and types), with the two derived columns."""
    sch, lay = schema.trip_schema(COLOR), layouts.layout_of(COLOR, layouts.TLC, MONTH)
    cols = [f'CAST("{name}" AS {DUCK_TYPES[sch.kind(target)]}) AS {target}' for name, target in lay.columns]
    cols += [f"CAST({sch.pickup_datetime} AS DATE) AS pickup_date", f"DATE '{MONTH}' AS source_month"]
    return f"SELECT {', '.join(cols)} FROM read_parquet('{path}')"


def run(python: str, code: str, *argv: str, env: dict | None = None) -> dict:
    out = subprocess.run([python, "-c", code, *argv], capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def write_csv(parquet: Path, csv: Path) -> None:
    """The file's rows as CSV with its header, a row group at a time."""
    file = pq.ParquetFile(parquet)
    with pacsv.CSVWriter(csv, file.schema_arrow) as writer:
        for batch in file.iter_batches(batch_size=100_000):
            writer.write_batch(batch)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=ROWS, help="rows of the synthetic month (default: the real one's)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (medians are reported)")
    parser.add_argument("--only", choices=("postgres", "gcs"), help="one of the two comparisons")
    args = parser.parse_args()
    do_pg, do_gcs = args.only in (None, "postgres"), args.only in (None, "gcs")
    stack = Stack(StackSettings.temporary(prefix="taxi-flows-bench-"))
    try:
        stack.up(airflow=False)
        s, env = stack.s, {**stack.env(), "PYTHONPATH": f"{REPO / 'include'}:{REPO}"}
        path = s.files_dir / "trip-data" / f"{COLOR}_tripdata_{MONTH:%Y-%m}.parquet"
        tlc_files.write_tlc(path, COLOR, MONTH, args.rows)
        csv = s.state_dir / "plain.csv"
        if do_pg:
            write_csv(path, csv)
        sizes = f"{path.stat().st_size / 1e6:.0f} MB Parquet"
        sizes += f", {csv.stat().st_size / 1e6:.0f} MB CSV" if do_pg else ""
        print(f"file: {args.rows:,} rows, {sizes}")

        sch, lay = schema.trip_schema(COLOR), layouts.layout_of(COLOR, layouts.TLC, MONTH)
        columns = ", ".join(f'"{name}" {sch.kind(target).postgres}' for name, target in lay.columns)
        subprocess.run(
            ["psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(s.pg_port), "-U", s.pg_user, s.target_db, "-c",
             f"CREATE TABLE bench_plain ({columns})"],
            check=True, env={**os.environ, "PGPASSWORD": s.pg_password},
        )  # fmt: skip
        urls = (s.source_base_url, s.tlc_base_url, COLOR, MONTH.isoformat())
        duck = str(bigquery_venv() / "bin" / "python")
        select, duck_out = duckdb_select(path), str(s.state_dir / "duckdb")
        imports = run(sys.executable, PEAK + "import taxi_flows.gcs.web_to_gcs, taxi_flows.gcs.storage as g\n"
                      "g.client(); print('{\"rss_mb\": %f}' % peak_mb())", env=env)["rss_mb"]  # fmt: skip
        copy, pg, duckdb, gcs = [], [], [], []
        for _ in range(args.repeat):
            if do_pg:
                copy.append(run_copy(stack, csv))
                pg.append(run(sys.executable, POSTGRES, s.pg_uri(s.target_db), *urls, env=env))
            if do_gcs:
                duckdb.append(run(duck, DUCKDB, duck_out, select, env={**os.environ, "HOME": str(s.state_dir)}))
                gcs.append(run(sys.executable, GCS, "", *urls, env=env))
                shutil.rmtree(duck_out, ignore_errors=True)
    finally:
        stack.down()
        shutil.rmtree(stack.s.state_dir, ignore_errors=True)

    def med(runs, key="seconds"):
        return statistics.median(r[key] for r in runs)

    print(json.dumps({"copy": copy, "postgres": pg, "duckdb": duckdb, "gcs": gcs, "imports_rss_mb": imports}, indent=1))
    print(f"\n{args.rows:,} rows of {COLOR} {MONTH:%Y-%m} (TLC layout), medians of {args.repeat}")
    if do_pg:
        t_copy, t_pg, rss = statistics.median(copy), med(pg), max(r["rss_mb"] for r in pg)
        print(
            f"psql \\copy of the rows as CSV (baseline)  {t_copy:7.2f} s\n"
            f"web_to_postgres (download+load)           {t_pg:7.2f} s   ratio {t_pg / t_copy:.2f} (target <= 1.25)   "
            f"peak RSS {rss:4.0f} MB (target <= 400)"
        )
    if do_gcs:
        t_duck, t_gcs, u_gcs = med(duckdb), med(gcs), med(gcs, "upload_seconds")
        rss_duck, rss_gcs = max(r["rss_mb"] for r in duckdb), max(r["rss_mb"] for r in gcs)
        rss_enc, rss_up = (max(r[f"rss_{phase}_mb"] for r in gcs) for phase in ("encoding", "upload"))
        print(
            f"DuckDB: monthly file + PARTITION_BY       {t_duck:7.2f} s   (local folder)       "
            f"peak RSS {rss_duck:4.0f} MB\n"
            f"web_to_gcs, {gcs[0]['files']} objects                    {t_gcs:7.2f} s   ratio {t_gcs / t_duck:.2f} "
            f"(target < 1; encoding {t_gcs - u_gcs:.2f} s, then uploads {u_gcs:.2f} s)   peak RSS {rss_gcs:4.0f} MB "
            f"(target <= 400; imports alone {imports:.0f} MB; sampled: encoding {rss_enc:.0f}, uploads {rss_up:.0f})"
        )


if __name__ == "__main__":
    main()
