"""web -> GCS, independent of Airflow: the monthly Parquet file, the pickup-date dataset (the
partitioned write), and the zone lookup as Parquet. A task calls these with a storage client.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from taxi_flows.core.month_file import MonthFile
from taxi_flows.core.months import next_month
from taxi_flows.core.report import log_summary
from taxi_flows.core.streams import Background, prefetch
from taxi_flows.core.zones import web_zones
from taxi_flows.gcs import layout, manifest, month_lock, storage
from taxi_flows.gcs.parquet import PartitionedWriter, RowGroupWriter
from taxi_flows.settings import DEFAULT_TLC_BASE_URL

if TYPE_CHECKING:
    import requests
    from google.cloud.storage import Client

log = logging.getLogger(__name__)

# A CSV file's parsed blocks joined four to a batch (about 45,000 rows of a yellow month): every batch pays a
# fixed cost here (the checks, the two writers, the hand-overs between threads). A full yellow month, medians
# of 8: 1.78 s in batches of one block, 1.58 s of four (4 MiB blocks are as fast, but Arrow's reader reads up
# to 32 blocks ahead: 468 MB at the peak against 373 MB). PostgreSQL's load keeps one block a batch: its
# encoder is fed slices of 32,768 rows, and there four blocks were slower (3.30 s against 2.71 s) and larger
# (305 MB against 226 MB).
BLOCKS_PER_BATCH = 4


def web_to_gcs(
    client: Client,
    bucket: str,
    base_url: str,
    color: str,
    month: dt.date,
    http: requests.Session | None = None,
    tlc_base_url: str = DEFAULT_TLC_BASE_URL,
    source_name: str | None = None,
) -> dict:
    """Stream one month file once into the monthly Parquet object and the pickup-date dataset,
    every row of the file in each.

    Both are written locally first (bounded memory). A date of the dataset that is done (the file in
    pickup order has moved on: gcs.parquet.PartitionedWriter) goes up while the rest is read, under
    this load's names, which nothing reads before the commit; the monthly file and the other dates
    go up once the month passed its checks. Bad input changes nothing a reader sees: a load that
    fails deletes what it uploaded. The dataset's files carry this load's id and count once
    the month's manifest names them (gcs.manifest: the commit); then the monthly file is replaced (one
    object, in one request, only if no other load replaced it since this one began) while the month's
    files of earlier loads are deleted. Other months' files, even in the same date partitions, are
    never touched. A second load of the month waits for this one (gcs.month_lock), so the monthly file
    and the dataset hold the same load once a load succeeds.
    """
    started = time.monotonic()
    src = MonthFile(base_url, color, month, http, tlc_base_url, source_name)
    sch = src.sch
    # The month's lock first (before the download): one load of a month at a time; the load id after it,
    # so the load that commits last is also the newest.
    with month_lock.holding(client, bucket, color, month, src.what) as lease:
        load_id = layout.new_load_id()
        file_name = layout.partition_file_name(month, load_id)
        prefix = layout.dataset_prefix(color)
        monthly_name = layout.monthly_object(color, month)
        monthly_generation = storage.generation(client, bucket, monthly_name)  # replaced only if still this one
        with tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp, storage.Uploads(client, bucket) as uploads:
            root = Path(tmp) / "dataset"

            def object_name(part: RowGroupWriter) -> str:
                return f"{prefix}{part.path.relative_to(root).as_posix()}"

            def upload_sealed(value: str, part: RowGroupWriter) -> None:  # a date that is done goes up at once
                uploads.submit(object_name(part), part.path)

            single = RowGroupWriter(Path(tmp) / "month.parquet", sch.arrow_schema)
            month_days = (month, next_month(month) - dt.timedelta(days=1))
            dataset = PartitionedWriter(
                root, sch.arrow_schema, sch.pickup_date, file_name, on_sealed=upload_sealed, seal_dates=month_days
            )
            # Three threads: parsing, the monthly file's encoding and the dataset's, one batch apart (more
            # only costs memory); the dates that are done go up meanwhile. Before the checks: under names of
            # this load that no manifest names yet, deleted if the load fails.
            with (
                src.batches(BLOCKS_PER_BATCH) as batches,
                Background(dataset.add, name="taxi-flows-dataset") as to_dataset,
            ):
                for batch in prefetch(batches, depth=1):
                    to_dataset.put(batch)
                    single.add(batch)
            single.close()
            files = dataset.close()
            src.check(single.rows)
            if dataset.rows != single.rows:  # an invariant of the writers, checked whatever python's flags
                held = f"the dataset holds {dataset.rows:,} rows, the monthly file {single.rows:,}"
                raise RuntimeError(f"{src.what}: {held}")
            written = time.monotonic()
            early = len(uploads.submitted)
            pa.default_memory_pool().release_unused()  # the encoders' memory, back before the uploads

            by_date = {value: [object_name(part) for part in parts] for value, parts in files.items()}
            for parts in files.values():
                for part in parts:
                    uploads.submit(object_name(part), part.path)
            uploads.wait()
            month_key = f"{month:%Y-%m}"
            lease.check()  # still this load's month: one that was taken over must not commit
            committed = manifest.Manifest(color, month_key, load_id, single.rows, by_date, source=src.source.summary())
            uploads.commit()  # from here the files stay: a commit that failed half-way may name them
            manifest_uri = manifest.commit(client, bucket, committed)
            # The month's files of earlier loads are deleted while the monthly file goes up: no manifest names them.
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="taxi-flows-stale") as cleaner:
                cleaning = cleaner.submit(_delete_stale, client, bucket, prefix, month_key, load_id)
                monthly_uri = storage.upload(client, bucket, monthly_name, single.path, monthly_generation)
                stale = cleaning.result()
        log_summary(log, src.what, "wrote {rows:,} rows to {uri}", {"rows": single.rows, "uri": monthly_uri})
    summary = {
        **src.summary(),
        "rows_written": single.rows,
        "monthly_uri": monthly_uri,
        "dataset_uri": layout.uri(bucket, prefix),
        "partitions": len(files),
        "dataset_files": len(committed.names()),
        "dataset_files_uploaded_while_encoding": early,
        "manifest_uri": manifest_uri,
        "load_id": load_id,
        "stale_files_deleted": len(stale),
        "seconds": round(time.monotonic() - started, 2),
        "seconds_upload": round(time.monotonic() - written, 2),
    }
    log_summary(
        log,
        src.what,
        "wrote {dataset_files} files ({partitions} pickup dates, {pickup_date_min} … {pickup_date_max}; "
        "{dataset_files_uploaded_while_encoding} uploaded while the month was read) under {dataset_uri}, "
        "committed as load {load_id} in {manifest_uri}, deleted {stale_files_deleted} files of earlier loads of the "
        "month, in {seconds:.1f} s",
        summary,
    )
    return summary


def _delete_stale(client: Client, bucket: str, prefix: str, month_key: str, load_id: str) -> list[str]:
    """Delete the month's dataset files of loads older than load_id (the names deleted)."""
    stale = manifest.stale(storage.list_names(client, bucket, prefix), month_key, load_id)
    storage.delete(client, bucket, stale)
    return stale


def zones_to_gcs(client: Client, bucket: str, base_url: str, http: requests.Session | None = None) -> str:
    """The zone lookup from the web to gs://<bucket>/misc/taxi_zone_lookup.parquet (for BigQuery)."""
    with tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp:
        path = Path(tmp) / "zones.parquet"
        pq.write_table(web_zones(base_url, http), path)
        return storage.upload(client, bucket, layout.ZONES_OBJECT, path)
