"""web -> GCS, independent of Airflow: the monthly Parquet file, the pickup-date dataset (the
partitioned write), and the zone lookup as Parquet. A task calls these with a storage client.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from taxi_flows.core.month_file import MonthFile
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

    Both are written locally first (bounded memory), and uploaded once the month passed its checks:
    bad input changes nothing a reader sees. The dataset's files carry this load's id and count once
    the month's manifest names them (gcs.manifest: the commit); then the monthly file is replaced (one
    object, in one request, only if no other load replaced it since this one began), and the month's
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
        with tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp:
            single = RowGroupWriter(Path(tmp) / "month.parquet", sch.arrow_schema)
            dataset = PartitionedWriter(Path(tmp) / "dataset", sch.arrow_schema, sch.pickup_date, file_name)
            # Three threads: parsing, the monthly file's encoding and the dataset's, one batch apart (more
            # only costs memory).
            with src.batches() as batches, Background(dataset.add, name="taxi-flows-dataset") as to_dataset:
                for batch in prefetch(batches, depth=1):
                    to_dataset.put(batch)
                    single.add(batch)
            single.close()
            parts = dataset.close()
            src.check(single.rows)
            in_parts = sum(p.rows for p in parts.values())
            if in_parts != single.rows:  # an invariant of the writers, checked whatever python's flags
                raise RuntimeError(f"{src.what}: the dataset holds {in_parts:,} rows, the monthly file {single.rows:,}")
            written = time.monotonic()
            pa.default_memory_pool().release_unused()  # the encoders' memory, back before the uploads

            by_date = {value: f"{prefix}{sch.pickup_date}={value}/{file_name}" for value in parts}
            storage.upload_many(client, bucket, {by_date[value]: part.path for value, part in parts.items()})
            month_key = f"{month:%Y-%m}"
            lease.check()  # still this load's month: one that was taken over must not commit
            committed = manifest.Manifest(color, month_key, load_id, single.rows, by_date, source=src.source.summary())
            manifest_uri = manifest.commit(client, bucket, committed)
            monthly_uri = storage.upload(client, bucket, monthly_name, single.path, monthly_generation)
        log_summary(log, src.what, "wrote {rows:,} rows to {uri}", {"rows": single.rows, "uri": monthly_uri})
        stale = manifest.stale(storage.list_names(client, bucket, prefix), month_key, load_id)
        storage.delete(client, bucket, stale)
    summary = {
        **src.summary(),
        "rows_written": single.rows,
        "monthly_uri": monthly_uri,
        "dataset_uri": layout.uri(bucket, prefix),
        "partitions": len(parts),
        "manifest_uri": manifest_uri,
        "load_id": load_id,
        "stale_files_deleted": len(stale),
        "seconds": round(time.monotonic() - started, 2),
        "seconds_upload": round(time.monotonic() - written, 2),
    }
    log_summary(
        log,
        src.what,
        "wrote {partitions} files (one per pickup date, {pickup_date_min} … {pickup_date_max}) under {dataset_uri}, "
        "committed as load {load_id} in {manifest_uri}, deleted {stale_files_deleted} files of earlier loads of the "
        "month, in {seconds:.1f} s",
        summary,
    )
    return summary


def zones_to_gcs(client: Client, bucket: str, base_url: str, http: requests.Session | None = None) -> str:
    """The zone lookup from the web to gs://<bucket>/misc/taxi_zone_lookup.parquet (for BigQuery)."""
    with tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp:
        path = Path(tmp) / "zones.parquet"
        pq.write_table(web_zones(base_url, http), path)
        return storage.upload(client, bucket, layout.ZONES_OBJECT, path)
