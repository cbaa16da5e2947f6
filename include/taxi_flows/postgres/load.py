"""The PostgreSQL partition swap: COPY, once, into the month's own partition, swapped in atomically.

Each ``<color>_tripdata`` table is partitioned by ``source_month``, one partition a source file.
Replacing a month is one transaction:

1. take an advisory lock for (table, month), so two runs of the same month queue up;
2. CREATE a new table LIKE the parent, with CHECK (source_month = <month>);
3. COPY the transformed stream into it (FREEZE: the table is new in this transaction);
4. check the rows as written (counts, the course's assertions) and the stream's statistics;
5. DROP the old partition, rename the new table to its name and ATTACH it (no validation scan).

Every row is written exactly once, no staging table is copied again, readers of the table see
the old month until COMMIT, and any failure (bad input, a check, a lost connection) rolls back
to the previous rows. Rows of other months are never touched, whatever their pickup dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

import pyarrow as pa
from psycopg import Connection, sql

from taxi_flows.core import schema, sqlfiles
from taxi_flows.core.schema import TripSchema
from taxi_flows.core.streams import prefetch
from taxi_flows.postgres import binary
from taxi_flows.postgres.tables import partition_name


def copy_batches(
    conn: Connection, table: sql.Composable, columns: list[str], batches: Iterable[pa.RecordBatch], freeze: bool
) -> None:
    """COPY Arrow batches into table in the binary format, encoding in a background thread."""
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT binary{})").format(
        table, sql.SQL(", ").join(map(sql.Identifier, columns)), sql.SQL(", FREEZE" if freeze else "")
    )
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.write(binary.HEADER)
        for chunk in prefetch(binary.encode(batch) for batch in batches):
            copy.write(chunk)
        copy.write(binary.TRAILER)


def replace_month(
    conn: Connection,
    pg_schema: str,
    sch: TripSchema,
    month: dt.date,
    batches: Iterable[pa.RecordBatch],
    check: Callable[[int, int], None],
) -> dict:
    """Replace the rows of source_month = month with batches, atomically. check(rows_written,
    rows_not_positive) runs before the swap and raises to abandon the load."""
    parent = sql.Identifier(pg_schema, sch.table)
    part = partition_name(sch, month)
    loading = sql.Identifier(pg_schema, f"{part}__loading")
    names = {
        "parent": parent,
        "partition": sql.Identifier(pg_schema, part),
        "partition_name": sql.Identifier(part),
        "loading": loading,
        "month": sql.Literal(month),
    }
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s), %s)", [f"{pg_schema}.{sch.table}", month.toordinal()])
        conn.execute(
            sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS)").format(
                loading, parent
            )
        )
        conn.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} CHECK (source_month = {})").format(
                loading, sql.Identifier(f"{part}_month"), sql.Literal(month)
            )
        )
        copy_batches(conn, loading, sch.names, batches, freeze=True)
        rows_written, rows_not_positive = conn.execute(
            sql.SQL(sqlfiles.load(__package__, "check_loaded_month.sql")).format(**names)
        ).fetchone()
        check(rows_written, rows_not_positive)
        replaced = 0
        if conn.execute("SELECT to_regclass(%s)", [f"{pg_schema}.{part}"]).fetchone()[0]:
            replaced = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(names["partition"])).fetchone()[0]
        conn.execute(sql.SQL(sqlfiles.load(__package__, "replace_month_partition.sql")).format(**names))
    table = f"{pg_schema}.{sch.table}"
    return {"table": table, "partition": part, "rows_written": rows_written, "rows_replaced": replaced}


def replace_zones(conn: Connection, pg_schema: str, table: pa.Table) -> int:
    """Replace the zone lookup's rows, atomically (TRUNCATE and COPY in one transaction)."""
    target = sql.Identifier(pg_schema, schema.ZONE_TABLE)
    with conn.transaction():
        conn.execute(sql.SQL("TRUNCATE {}").format(target))
        copy_batches(conn, target, table.column_names, table.to_batches(), freeze=True)
    return table.num_rows
