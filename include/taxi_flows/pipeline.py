"""The workflows' steps, independent of Airflow: a task calls one of these with a connection.

web -> Postgres, for one colour and month: stream the file from the web, decompress, parse with
the schema's types, transform as the course does, check, and replace the month in PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import logging
import time

import pyarrow as pa
import pyarrow.csv as pacsv
import requests
from psycopg import Connection

from taxi_flows import postgres, quality, schema, source
from taxi_flows.download import SourceError, open_source
from taxi_flows.transform import TripStats, check_header, read_header, trip_batches

log = logging.getLogger(__name__)


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
    sch = schema.trip_schema(color)
    what = f"{color} {month:%Y-%m}"
    stats = TripStats(color=color, month=f"{month:%Y-%m}")

    def check(rows_written: int, rows_not_positive: int) -> None:
        log.info(
            "%s: %s rows read; removed %s with passenger_count blank or not > 0 and %s with trip_distance "
            "blank or not > 0; %s kept; %s with a vendor_id other than 1 or 2; %s picked up outside the month",
            what, f"{stats.rows_read:,}", f"{stats.removed_passenger_count:,}", f"{stats.removed_trip_distance:,}",
            f"{stats.rows_kept:,}", f"{stats.unknown_vendor:,}", f"{stats.out_of_month_pickups:,}",
        )  # fmt: skip
        quality.check(stats, rows_written, rows_not_positive)

    postgres.ensure_tables(conn, pg_schema, [color])
    with open_source(source.trip_url(base_url, color, month), what, gzipped=True, http=http) as stream:
        batches = trip_batches(stream, sch, month, stats, what)
        result = postgres.replace_month(conn, pg_schema, sch, month, batches, check)
    summary = {**stats.summary(), **result, "seconds": round(time.monotonic() - started, 2)}
    log.info(
        "%s: wrote %s rows to %s (partition %s), replacing %s, in %.1f s; pickup dates %s … %s",
        what, f"{result['rows_written']:,}", result["table"], result["partition"], f"{result['rows_replaced']:,}",
        summary["seconds"], summary["pickup_date_min"], summary["pickup_date_max"],
    )  # fmt: skip
    return summary


def web_to_postgres_zones(conn: Connection, base_url: str, pg_schema: str, http: requests.Session | None = None) -> int:
    """Load the zone lookup into <pg_schema>.taxi_zone_lookup, replacing its rows."""
    what = "taxi zone lookup"
    names = [c.source for c in schema.ZONE_COLUMNS]
    types = {c.name: c.kind.arrow() for c in schema.ZONE_COLUMNS}
    with open_source(source.zones_url(base_url), what, gzipped=False, http=http) as stream:
        check_header(read_header(stream, what), names, what)
        try:
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=list(types)),
                convert_options=pacsv.ConvertOptions(column_types=types),
            )
        except pa.ArrowInvalid as e:
            raise SourceError(f"{what}: the file does not parse with the zone schema's types: {e}") from e
    postgres.ensure_tables(conn, pg_schema, [])
    rows = postgres.replace_zones(conn, pg_schema, table)
    log.info("%s: wrote %s zones to %s.%s", what, rows, pg_schema, schema.ZONE_TABLE)
    return rows
