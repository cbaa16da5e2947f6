"""web -> PostgreSQL, independent of Airflow: a task calls these with a psycopg connection.

A month file is streamed once (taxi_flows.core.month_file) into the month's own partition and
swapped in (taxi_flows.postgres.load); the zone lookup replaces its table's rows.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import TYPE_CHECKING

from taxi_flows.core.month_file import MonthFile
from taxi_flows.core.report import log_summary
from taxi_flows.core.schema import ZONE_TABLE
from taxi_flows.core.zones import WHAT as ZONES
from taxi_flows.core.zones import web_zones
from taxi_flows.postgres import load
from taxi_flows.postgres.tables import ensure_tables
from taxi_flows.settings import DEFAULT_TLC_BASE_URL

if TYPE_CHECKING:
    import requests
    from psycopg import Connection

log = logging.getLogger(__name__)


def web_to_postgres(
    conn: Connection,
    base_url: str,
    color: str,
    month: dt.date,
    pg_schema: str,
    http: requests.Session | None = None,
    tlc_base_url: str = DEFAULT_TLC_BASE_URL,
    source_name: str | None = None,
) -> dict:
    """Load every row of one month file into <pg_schema>.<color>_tripdata, replacing that
    source_month (the view <color>_tripdata_clean shows the course's cleaning of it)."""
    started = time.monotonic()
    src = MonthFile(base_url, color, month, http, tlc_base_url, source_name)
    ensure_tables(conn, pg_schema, [color])
    # The month's lock first: a load that waits for another holds no download open meanwhile.
    with load.month_lock(conn, pg_schema, src.sch, month, src.what), src.batches() as batches:
        result = load.replace_month(conn, pg_schema, src.sch, month, batches, src.check)
    summary = {**src.summary(), **result, "seconds": round(time.monotonic() - started, 2)}
    clean = "; {rows_clean:,} of them in {clean_view}" if src.sch.clean_view else ""
    log_summary(
        log,
        src.what,
        "wrote {rows_written:,} rows, every row of the file, to {table} (partition {partition}), replacing "
        "{rows_replaced:,}, in {seconds:.1f} s" + clean + "; pickup dates {pickup_date_min} … {pickup_date_max}",
        summary,
    )
    return summary


def web_to_postgres_zones(conn: Connection, base_url: str, pg_schema: str, http: requests.Session | None = None) -> int:
    """Load the zone lookup into <pg_schema>.taxi_zone_lookup, replacing its rows."""
    table = web_zones(base_url, http)
    ensure_tables(conn, pg_schema, [])
    rows = load.replace_zones(conn, pg_schema, table)
    log_summary(log, ZONES, "wrote {rows:,} zones to {table}", {"rows": rows, "table": f"{pg_schema}.{ZONE_TABLE}"})
    return rows
