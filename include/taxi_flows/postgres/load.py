"""The PostgreSQL partition swap: COPY, once, into the month's own table, swapped in atomically.

Each ``<color>_tripdata`` table is partitioned by ``source_month``, one partition a source file.
Replacing a month:

1. take a session advisory lock for (table, month), so two runs of the same month queue up;
2. load, in one transaction that takes no lock on the parent table: CREATE a table of the month's
   own (the schema's columns, CHECK (source_month = <month>)), COPY the transformed stream into it
   (FREEZE: the table is new in this transaction), check the rows as written (every row of the
   file, and as many passing the course's cleaning as the stream counted) and the stream's
   statistics. A failure rolls it all back;
3. swap, in one short transaction: lock the parent (always first: one order for every load, so
   concurrent months never deadlock), DROP the old partition, rename the new table to its name and
   ATTACH it (no validation scan: the CHECK proves the month). The locks are asked for with a
   timeout (taxi_flows.postgres.locks): a reader holding the table makes the swap give way, wait
   and try again, so readers queued behind it wait about a second at most.

Every row is written exactly once, no staging table is copied again, readers of the table see
the old month until the swap commits, and any failure (bad input, a check, a lost connection)
leaves the previous rows. Rows of other months are never touched, whatever their pickup dates.
A table ``<partition>__loading`` left by a killed load is dropped by the month's next load.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable

import psycopg
import pyarrow as pa
from psycopg import Connection, sql

from taxi_flows.core import schema, sqlfiles
from taxi_flows.core.schema import TripSchema
from taxi_flows.core.streams import prefetch
from taxi_flows.postgres import binary, locks
from taxi_flows.postgres.locks import under_lock_timeout
from taxi_flows.postgres.tables import column_definitions, partition_name

# Rows encoded at a time: the encoder's arrays and the chunks queued for the COPY stay a few MB
# (a batch of 131,072 fhvhv rows is 27 MB of COPY data, and about five times that while encoded).
ENCODE_ROWS = 32_768


def copy_batches(
    conn: Connection, table: sql.Composable, columns: list[str], batches: Iterable[pa.RecordBatch], freeze: bool
) -> None:
    """COPY Arrow batches into table in the binary format, encoding in a background thread."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary{})").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", FREEZE" if freeze else "")
    )
    slices = (batch.slice(start, ENCODE_ROWS) for batch in batches for start in range(0, batch.num_rows, ENCODE_ROWS))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(binary.HEADER)
        for chunk in prefetch(binary.encode(piece) for piece in slices):
            copy.write(chunk)
        copy.write(binary.TRAILER)


def month_lock(conn: Connection, pg_schema: str, sch: TripSchema, month: dt.date, what: str):
    """One load of a month at a time (locks.month_lock): hold it around opening the source and replace_month."""
    return locks.month_lock(conn, f"{pg_schema}.{sch.table}", month.toordinal(), f"{what}: the month's lock")


def replace_month(
    conn: Connection,
    pg_schema: str,
    sch: TripSchema,
    month: dt.date,
    batches: Iterable[pa.RecordBatch],
    check: Callable[[int, int | None], None],
) -> dict:
    """Replace the rows of source_month = month with batches, atomically. check(rows_written,
    rows_clean) runs before the swap and raises to abandon the load. The caller holds the month's
    lock (month_lock), taken before it opens the source."""
    parent = sql.Identifier(pg_schema, sch.table)
    part = partition_name(sch, month)
    loading = sql.Identifier(pg_schema, f"{part}__loading")
    names = {
        "parent": parent,
        "partition": sql.Identifier(pg_schema, part),
        "partition_name": sql.Identifier(part),
        "loading": loading,
        "month": sql.Literal(month),
        "rows_clean": sql.SQL(
            f"count(*) FILTER (WHERE {sch.clean_condition})" if sch.clean_condition else "NULL::bigint"
        ),
    }
    try:
        with conn.transaction():  # the load: the parent table is not locked at all
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(loading))
            conn.execute(
                sql.SQL("CREATE TABLE {} ({}, CONSTRAINT {} CHECK (source_month = {}))").format(
                    loading, sql.SQL(column_definitions(sch)), sql.Identifier(f"{part}_month"), sql.Literal(month)
                )
            )
            copy_batches(conn, loading, sch.names, batches, freeze=True)
            rows_written, rows_clean = conn.execute(
                sql.SQL(sqlfiles.load(__package__, "check_loaded_month.sql")).format(**names)
            ).fetchone()
            check(rows_written, rows_clean)
        replaced = 0
        if conn.execute("SELECT to_regclass(%s)", [f"{pg_schema}.{part}"]).fetchone()[0]:
            replaced = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(names["partition"])).fetchone()[0]
        swap = sql.SQL(sqlfiles.load(__package__, "replace_month_partition.sql")).format(**names)
        waits = under_lock_timeout(conn, f"{pg_schema}.{part}", lambda: conn.execute(swap))
    except BaseException:
        _quietly(conn, sql.SQL("DROP TABLE IF EXISTS {}").format(loading))  # a committed load that was not swapped
        raise
    table = f"{pg_schema}.{sch.table}"
    return {
        "table": table,
        "clean_view": f"{pg_schema}.{sch.clean_view}" if sch.clean_view else None,
        "partition": part,
        "rows_written": rows_written,
        "rows_replaced": replaced,
        "swap_waits": waits,
    }


def _quietly(conn: Connection, statement: sql.Composable) -> None:
    """Clean up after a load, never hiding the load's own error (a lost connection ends both)."""
    if conn.closed or conn.broken:
        return
    with contextlib.suppress(psycopg.Error):
        conn.execute(statement)


def replace_zones(conn: Connection, pg_schema: str, table: pa.Table) -> int:
    """Replace the zone lookup's rows, atomically (TRUNCATE and COPY in one transaction)."""
    target = sql.Identifier(pg_schema, schema.ZONE_TABLE)
    with conn.transaction():
        conn.execute(sql.SQL("TRUNCATE {}").format(target))
        copy_batches(conn, target, table.column_names, table.to_batches(), freeze=True)
    return table.num_rows
