"""Benchmark: a full-size yellow month to both GCS outputs, ours vs the course's approach.

    make bench-gcs    (or: python benchmarks/bench_gcs_load.py [--repeat 3])

In one run, against a GCS emulator and a taxi file server of its own (a temporary stack):

- ours: `taxi_flows.gcs.web_to_gcs.web_to_gcs` in a fresh process, as the task runs it: stream the month
  from the file server once, write the monthly file and the pickup-date dataset locally, upload
  (the google provider's GCSHook client);
- the course's: pandas reads the whole file from the same URL with the course's dtypes, filters and
  renames as the course does, then writes one Parquet file and `pyarrow.parquet.write_to_dataset`
  with `partition_cols=["tpep_pickup_date"]` to the same emulator (pyarrow's GcsFileSystem).

- DuckDB (the version of the benchmark's environment, .venv-bq): `read_csv` of the same file
  (from the file server's folder: no download), the course's filter and names, then
  `COPY … (FORMAT parquet)` and `COPY … (FORMAT parquet, PARTITION_BY (tpep_pickup_date))` to a
  local folder. It uploads nothing: it compares with our local part (all but the upload that is
  left after the encoding).

Both Python processes import the same libraries (the provider's hook and pandas included) before
their timers start, so times and peak RSS compare the work, not the imports. (pyarrow imports pandas
on its first array made from Python values: 0.17 to 0.38 s that the course's timer never saw.)
Targets: ours at least 3x faster than the course's way and at most a third of its memory net of the
imports; our local part faster than DuckDB's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "include"), str(REPO)]

from taxi_dev import sample_data  # noqa: E402
from taxi_dev.settings import StackSettings  # noqa: E402
from taxi_dev.stack import Stack, bigquery_venv  # noqa: E402
from taxi_flows.core import source  # noqa: E402

MONTH = dt.date(2021, 1, 1)

PEAK = """
import re
def peak_mb():  # VmHWM: this process image's peak RSS (ru_maxrss would count the parent's before exec)
    return int(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1)) / 1024
"""

IMPORTS = (
    PEAK
    + """
import json
import pandas, pyarrow.fs, pyarrow.parquet
from taxi_flows.gcs import storage, web_to_gcs
storage.client()
print(json.dumps({"rss_mb": peak_mb()}))
"""
)

OURS = (
    PEAK
    + """
import datetime as dt, json, os, sys, time
import pandas  # as the course's imports it: pyarrow imports it on its first array from Python values
from taxi_flows.gcs import storage, web_to_gcs
client = storage.client()
started = time.perf_counter()
s = web_to_gcs.web_to_gcs(client, os.environ["AIRFLOW_VAR_TAXI_GCS_BUCKET"], sys.argv[1], "yellow", dt.date(2021, 1, 1))
print(json.dumps({"seconds": time.perf_counter() - started, "upload_seconds": s["seconds_upload"],
                  "rows": s["rows_written"], "files": s["partitions"] + 1, "rss_mb": peak_mb()}))
"""
)

COURSE = (
    PEAK
    + """
import json, os, sys, time
import pandas as pd, pyarrow as pa, pyarrow.fs, pyarrow.parquet as pq
from taxi_flows.gcs import storage  # the same imports as ours: the provider's hook and its client
storage.client()
bucket = os.environ["AIRFLOW_VAR_TAXI_GCS_BUCKET"]
fs = pyarrow.fs.GcsFileSystem(anonymous=True, scheme="http", project_id="bench",
                              endpoint_override=os.environ["STORAGE_EMULATOR_HOST"].split("://", 1)[1])
started = time.perf_counter()
taxi_dtypes = {"VendorID": pd.Int64Dtype(), "passenger_count": pd.Int64Dtype(), "trip_distance": float,
               "RatecodeID": pd.Int64Dtype(), "store_and_fwd_flag": str, "PULocationID": pd.Int64Dtype(),
               "DOLocationID": pd.Int64Dtype(), "payment_type": pd.Int64Dtype(), "fare_amount": float,
               "extra": float, "mta_tax": float, "tip_amount": float, "tolls_amount": float,
               "improvement_surcharge": float, "total_amount": float, "congestion_surcharge": float}
df = pd.read_csv(sys.argv[1] + "/yellow/yellow_tripdata_2021-01.csv.gz", sep=",", compression="gzip",
                 dtype=taxi_dtypes, parse_dates=["tpep_pickup_datetime", "tpep_dropoff_datetime"])
df = df[(df["passenger_count"] > 0) & (df["trip_distance"] > 0)]
df.columns = (df.columns.str.replace(r"(?<=[a-z])(?=[A-Z])", "_", regex=True).str.lower()
              .str.replace("p_ul", "pu_l").str.replace("d_ol", "do_l"))
df["tpep_pickup_date"] = df["tpep_pickup_datetime"].dt.date
table = pa.Table.from_pandas(df, preserve_index=False)
written = time.perf_counter()
pq.write_table(table, f"{bucket}/nyc_taxi_data.parquet", filesystem=fs)
pq.write_to_dataset(table, root_path=f"{bucket}/nyc_taxi_data", partition_cols=["tpep_pickup_date"], filesystem=fs)
done = time.perf_counter()
print(json.dumps({"seconds": done - started, "upload_seconds": done - written, "rows": table.num_rows,
                  "rss_mb": peak_mb()}))
"""
)


def duckdb_script(statements: str) -> str:
    """A DuckDB run, in the benchmark's environment (.venv-bq): argv[1] is the output folder (made
    empty), argv[2] what `statements` read; they run timed on `con` and set `rows`. It prints the
    seconds, the rows and the peak RSS."""
    head = """
import json, os, re, shutil, sys, time
import duckdb
out, source = sys.argv[1:3]
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
started = time.perf_counter()
con = duckdb.connect()
"""
    tail = """
print(json.dumps({"seconds": time.perf_counter() - started, "rows": rows, "rss_mb": peak_mb()}))
"""
    return PEAK + head + statements + tail


# The same file (source: its path), the course's filter and names, both outputs.
DUCKDB = duckdb_script(
    """
header = con.execute(f"SELECT * FROM read_csv('{source}', header=true) LIMIT 0").description
names = {c[0]: re.sub(r"(?<=[a-z])(?=[A-Z])", "_", c[0]).lower().replace("p_ul", "pu_l").replace("d_ol", "do_l")
         for c in header}
columns = ", ".join(f'"{k}" AS {v}' for k, v in names.items())
con.execute(f"CREATE TABLE month AS SELECT {columns}, CAST(tpep_pickup_datetime AS DATE) AS tpep_pickup_date "
            f"FROM read_csv('{source}', header=true) WHERE passenger_count > 0 AND trip_distance > 0")
con.execute(f"COPY month TO '{out}/nyc_taxi_data.parquet' (FORMAT parquet)")
con.execute(f"COPY month TO '{out}/nyc_taxi_data' (FORMAT parquet, PARTITION_BY (tpep_pickup_date))")
rows = con.execute("SELECT count(*) FROM month").fetchone()[0]
"""
)


def run(stack: Stack, code: str, python: str = sys.executable, args: tuple[str, ...] = ()) -> dict:
    env = {**stack.env(), "PYTHONPATH": f"{REPO / 'include'}:{REPO}", "HOME": str(stack.s.state_dir)}
    argv = [python, "-c", code, *(args or (stack.s.source_base_url,))]
    out = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each (medians are reported)")
    args = parser.parse_args()
    stack = Stack(StackSettings.temporary(prefix="taxi-flows-bench-"))
    try:
        stack.up(airflow=False)
        rows = sample_data.FULL_ROWS["yellow"]
        path = stack.s.files_dir / "yellow" / source.trip_file_name("yellow", MONTH)
        sample_data.write_trips(path, "yellow", MONTH, rows)
        print(f"file: {rows:,} rows, {path.stat().st_size / 1e6:.1f} MB gzipped")
        imports = run(stack, IMPORTS)["rss_mb"]
        duck_python, duck_out = str(bigquery_venv() / "bin" / "python"), str(stack.s.state_dir / "duckdb")
        ours, course, duck = [], [], []
        for _ in range(args.repeat):
            course.append(run(stack, COURSE))
            duck.append(run(stack, DUCKDB, duck_python, (duck_out, str(path))))
            shutil.rmtree(duck_out, ignore_errors=True)
            ours.append(run(stack, OURS))
    finally:
        stack.down()
        shutil.rmtree(stack.s.state_dir, ignore_errors=True)

    def med(runs, key):
        return statistics.median(r[key] for r in runs)

    t_ours, t_course = med(ours, "seconds"), med(course, "seconds")
    u_ours, u_course = med(ours, "upload_seconds"), med(course, "upload_seconds")
    rss_ours, rss_course = max(r["rss_mb"] for r in ours), max(r["rss_mb"] for r in course)
    t_duck, rss_duck = med(duck, "seconds"), max(r["rss_mb"] for r in duck)
    print(json.dumps({"ours": ours, "course": course, "duckdb": duck, "imports_rss_mb": imports}, indent=1))
    print(
        f"\ncourse: pandas whole file + write_to_dataset   {t_course:5.2f} s   (read+transform "
        f"{t_course - u_course:.2f} s, Parquet to GCS {u_course:.2f} s)   peak RSS {rss_course:4.0f} MB\n"
        f"DuckDB: read_csv + 2 COPY, local folder      {t_duck:5.2f} s                                      "
        f"peak RSS {rss_duck:4.0f} MB\n"
        f"ours:   web_to_gcs, {ours[0]['files']} objects            {t_ours:5.2f} s   (stream to local Parquet "
        f"{t_ours - u_ours:.2f} s, upload {u_ours:.2f} s)      peak RSS {rss_ours:4.0f} MB\n"
        f"imports alone (the same in both): peak RSS {imports:.0f} MB\n"
        f"speed-up {t_course / t_ours:.2f}x (target >= 3); memory {rss_ours / rss_course:.2f} of the course's, "
        f"{(rss_ours - imports) / (rss_course - imports):.2f} net of the imports (target <= 0.33); "
        f"local part {(t_ours - u_ours) / t_duck:.2f} of DuckDB's time (target < 1)"
    )


if __name__ == "__main__":
    main()
