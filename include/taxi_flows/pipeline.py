"""The workflows' steps, independent of Airflow: a task calls one of these with a connection
(a psycopg connection, a google-cloud-storage client).

Every month workflow streams the file from the web once, decompresses and parses it with the
schema's types, transforms it as the course does, checks it, and only then replaces the month in
its target: PostgreSQL (web_to_postgres), GCS (web_to_gcs). daily_trips_to_gcs cuts one day out of
the pickup-date dataset.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import requests
from psycopg import Connection

from taxi_flows import gcs, postgres, quality, schema, source
from taxi_flows.download import SourceError, open_source
from taxi_flows.parquet import PartitionedWriter, RowGroupWriter
from taxi_flows.streams import prefetch
from taxi_flows.transform import TripStats, check_header, read_header, trip_batches

if TYPE_CHECKING:
    from google.cloud import storage

log = logging.getLogger(__name__)


class MonthFile:
    """One colour's month file on the web: its transformed batches, streamed once, and the checks
    on what was seen (the statistics of every batch that went by)."""

    def __init__(self, base_url: str, color: str, month: dt.date, http: requests.Session | None = None):
        self.sch = schema.trip_schema(color)
        self.month = month
        self.what = f"{color} {month:%Y-%m}"
        self.url = source.trip_url(base_url, color, month)
        self.stats = TripStats(color=color, month=f"{month:%Y-%m}")
        self.http = http

    @contextmanager
    def batches(self) -> Iterator[Iterator[pa.RecordBatch]]:
        with open_source(self.url, self.what, gzipped=True, http=self.http) as stream:
            yield trip_batches(stream, self.sch, self.month, self.stats, self.what)

    def check(self, rows_written: int, rows_not_positive: int = 0) -> None:
        """Log what each rule removed, then run the data-quality checks (DataQualityError)."""
        stats = self.stats
        log.info(
            "%s: %s rows read; removed %s with passenger_count blank or not > 0 and %s with trip_distance "
            "blank or not > 0; %s kept; %s with a vendor_id other than 1 or 2; %s picked up outside the month",
            self.what, f"{stats.rows_read:,}", f"{stats.removed_passenger_count:,}",
            f"{stats.removed_trip_distance:,}", f"{stats.rows_kept:,}", f"{stats.unknown_vendor:,}",
            f"{stats.out_of_month_pickups:,}",
        )  # fmt: skip
        quality.check(stats, rows_written, rows_not_positive)


def web_to_postgres(
    conn: Connection,
    base_url: str,
    color: str,
    month: dt.date,
    pg_schema: str,
    http: requests.Session | None = None,
) -> dict:
    """Load one month file into <pg_schema>.<color>_tripdata, replacing that source_month."""
    started = time.monotonic()
    src = MonthFile(base_url, color, month, http)
    postgres.ensure_tables(conn, pg_schema, [color])
    with src.batches() as batches:
        result = postgres.replace_month(conn, pg_schema, src.sch, month, batches, src.check)
    summary = {**src.stats.summary(), **result, "seconds": round(time.monotonic() - started, 2)}
    log.info(
        "%s: wrote %s rows to %s (partition %s), replacing %s, in %.1f s; pickup dates %s … %s",
        src.what, f"{result['rows_written']:,}", result["table"], result["partition"],
        f"{result['rows_replaced']:,}", summary["seconds"], summary["pickup_date_min"], summary["pickup_date_max"],
    )  # fmt: skip
    return summary


def web_to_gcs(
    client: storage.Client,
    bucket: str,
    base_url: str,
    color: str,
    month: dt.date,
    http: requests.Session | None = None,
) -> dict:
    """Stream one month file once into the monthly Parquet object and the pickup-date dataset.

    Both are written locally first (bounded memory) and uploaded only after the month passed its
    checks: bad input writes and removes nothing. Then the month's files that the dataset held
    from an earlier run and this run did not produce are deleted; other months' files, even in
    the same date partitions, are never touched.
    """
    started = time.monotonic()
    src = MonthFile(base_url, color, month, http)
    sch = src.sch
    file_name = gcs.partition_file_name(month)
    with tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp:
        single = RowGroupWriter(Path(tmp) / "month.parquet", sch.arrow_schema)
        dataset = PartitionedWriter(Path(tmp) / "dataset", sch.arrow_schema, sch.pickup_date, file_name)
        with src.batches() as batches:
            for batch in prefetch(batches):  # parsing in a thread beside the Parquet encoding
                single.add(batch)
                dataset.add(batch)
        single.close()
        parts = dataset.close()
        src.check(single.rows)
        assert sum(p.rows for p in parts.values()) == single.rows, "the dataset lost rows"
        written = time.monotonic()

        monthly_uri = gcs.upload(client, bucket, gcs.monthly_object(color, month), single.path)
        log.info("%s: wrote %s rows to %s", src.what, f"{single.rows:,}", monthly_uri)
        files = {f"{gcs.dataset_prefix(color)}{sch.pickup_date}={value}/{file_name}": part.path
                 for value, part in parts.items()}  # fmt: skip
        gcs.upload_many(client, bucket, files)
        produced = set(files)
        stale = [
            name
            for name in gcs.list_names(client, bucket, gcs.dataset_prefix(color))
            if name.endswith(f"/{file_name}") and name not in produced
        ]
        gcs.delete(client, bucket, stale)
    dataset_uri = gcs.uri(bucket, gcs.dataset_prefix(color))
    summary = {
        **src.stats.summary(),
        "rows_written": single.rows,
        "monthly_uri": monthly_uri,
        "dataset_uri": dataset_uri,
        "partitions": len(parts),
        "stale_files_deleted": len(stale),
        "seconds": round(time.monotonic() - started, 2),
        "seconds_upload": round(time.monotonic() - written, 2),
    }
    log.info(
        "%s: wrote %s files (one per pickup date, %s … %s) under %s, deleted %s of this month's files that "
        "are no longer produced, in %.1f s",
        src.what, len(parts), summary["pickup_date_min"], summary["pickup_date_max"], dataset_uri, len(stale),
        summary["seconds"],
    )  # fmt: skip
    return summary


def daily_trips_to_gcs(client: storage.Client, bucket: str, color: str, day: dt.date) -> dict:
    """The trips picked up on day (every source month's file of that date partition) as one
    Parquet object with the full schema, in pickup order; an empty file when there are none."""
    sch = schema.trip_schema(color)
    file_schema = sch.arrow_schema.remove(sch.arrow_schema.get_field_index(sch.pickup_date))
    prefix = gcs.partition_prefix(color, day)
    names = sorted(n for n in gcs.list_names(client, bucket, prefix) if n.endswith(".parquet"))
    tables = []
    for name in names:
        try:
            tables.append(pq.read_table(pa.BufferReader(gcs.download(client, bucket, name)), schema=file_schema))
        except (pa.ArrowInvalid, ValueError) as e:
            raise SourceError(f"{gcs.uri(bucket, name)} does not match the {color} schema: {e}") from e
    table = pa.concat_tables(tables) if tables else file_schema.empty_table()
    dates = pa.array(np.full(table.num_rows, np.datetime64(day, "D")))
    table = table.append_column(sch.arrow_schema.field(sch.pickup_date), dates).select(sch.names)
    table = table.sort_by(sch.pickup_datetime).cast(sch.arrow_schema)
    target = gcs.daily_object(color, day)
    with tempfile.TemporaryDirectory(prefix="taxi-flows-") as tmp:
        writer = RowGroupWriter(Path(tmp) / "daily.parquet", sch.arrow_schema)
        for batch in table.to_batches():
            writer.add(batch)
        daily_uri = gcs.upload(client, bucket, target, writer.close())
    if names:
        log.info("%s %s: wrote %s trips from %s file(s) of %s to %s", color, day, f"{table.num_rows:,}", len(names),
                 gcs.uri(bucket, prefix), daily_uri)  # fmt: skip
    else:
        log.warning("%s %s: no trips were picked up that day (nothing under %s; has taxi_web_to_gcs loaded the "
                    "month?): wrote an empty file with the schema to %s", color, day, gcs.uri(bucket, prefix),
                    daily_uri)  # fmt: skip
    return {"color": color, "day": day.isoformat(), "uri": daily_uri, "rows": table.num_rows, "source_files": names}


def web_zones(base_url: str, http: requests.Session | None = None) -> pa.Table:
    """The zone lookup from the web, with the schema's names and types."""
    what = "taxi zone lookup"
    names = [c.source for c in schema.ZONE_COLUMNS]
    types = {c.name: c.kind.arrow() for c in schema.ZONE_COLUMNS}
    with open_source(source.zones_url(base_url), what, gzipped=False, http=http) as stream:
        check_header(read_header(stream, what), names, what)
        try:
            return pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=list(types)),
                convert_options=pacsv.ConvertOptions(column_types=types),
            )
        except pa.ArrowInvalid as e:
            raise SourceError(f"{what}: the file does not parse with the zone schema's types: {e}") from e


def web_to_postgres_zones(conn: Connection, base_url: str, pg_schema: str, http: requests.Session | None = None) -> int:
    """Load the zone lookup into <pg_schema>.taxi_zone_lookup, replacing its rows."""
    table = web_zones(base_url, http)
    postgres.ensure_tables(conn, pg_schema, [])
    rows = postgres.replace_zones(conn, pg_schema, table)
    log.info("taxi zone lookup: wrote %s zones to %s.%s", rows, pg_schema, schema.ZONE_TABLE)
    return rows
