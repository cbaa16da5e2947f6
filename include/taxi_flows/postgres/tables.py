"""The PostgreSQL tables: their DDL (from taxi_flows.core.schema, every column commented), the
partition of a month, and their creation.

``<schema>.<color>_tripdata`` is partitioned by LIST (source_month), one partition a source file
(``yellow_tripdata_2021_01``), and holds every row of each file; the view
``<schema>.<color>_tripdata_clean`` is the course's cleaning of it (yellow and green: CLEAN_CONDITION);
``<schema>.taxi_zone_lookup`` is a plain table.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from taxi_flows.core import schema
from taxi_flows.core.schema import SOURCE_MONTH, ZONE_COLUMNS, ZONE_TABLE, TripSchema
from taxi_flows.postgres.locks import under_lock_timeout

if TYPE_CHECKING:
    from psycopg import Connection


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def column_definitions(sch: TripSchema) -> str:
    """The columns of a colour's table (and of each month's partition), as CREATE TABLE lists them."""
    return ",\n  ".join(f"{c.name} {c.kind.postgres}" + (" NOT NULL" if c is SOURCE_MONTH else "") for c in sch.columns)


def trips_ddl(sch: TripSchema, pg_schema: str) -> list[str]:
    """Statements that create the colour's table (partitioned by source_month) and describe it.

    Idempotent: re-running them adds columns the schema gained and refreshes the comments.
    """
    table = f"{pg_schema}.{sch.table}"
    cols = column_definitions(sch)
    comment = f"{sch.description}, every row of each source file, one partition per source month."
    statements = [
        f"CREATE SCHEMA IF NOT EXISTS {pg_schema}",
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}\n) PARTITION BY LIST (source_month)",
        *(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {c.name} {c.kind.postgres}" for c in sch.columns),
        f"COMMENT ON TABLE {table} IS {_sql_literal(comment)}",
        *(f"COMMENT ON COLUMN {table}.{c.name} IS {_sql_literal(c.description)}" for c in sch.columns),
    ]
    if sch.clean_view:  # after the columns: a column the table gains is added to the view (at its end)
        view = f"{pg_schema}.{sch.clean_view}"
        view_comment = f"The course's cleaning of {table}: the rows with {sch.clean_condition}."
        statements += [
            f"CREATE OR REPLACE VIEW {view} AS SELECT * FROM {table} WHERE {sch.clean_condition}",
            f"COMMENT ON VIEW {view} IS {_sql_literal(view_comment)}",
        ]
    return statements


def zones_ddl(pg_schema: str) -> list[str]:
    table = f"{pg_schema}.{ZONE_TABLE}"
    cols = ",\n  ".join(
        f"{c.name} {c.kind.postgres}" + (" PRIMARY KEY" if c.name == "location_id" else "") for c in ZONE_COLUMNS
    )
    return [
        f"CREATE SCHEMA IF NOT EXISTS {pg_schema}",
        f"CREATE TABLE IF NOT EXISTS {table} (\n  {cols}\n)",
        f"COMMENT ON TABLE {table} IS " + _sql_literal("NYC TLC taxi zones (misc/taxi_zone_lookup.csv)."),
        *(f"COMMENT ON COLUMN {table}.{c.name} IS {_sql_literal(c.description)}" for c in ZONE_COLUMNS),
    ]


def partition_name(sch: TripSchema, month: dt.date) -> str:
    return f"{sch.table}_{month:%Y_%m}"


def _columns(conn: Connection, pg_schema: str, table: str) -> tuple[str | None, dict[str, str]]:
    """The table's kind ('p' partitioned, 'r' plain, None missing) and its columns' types."""
    kind = conn.execute(
        "SELECT c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s",
        [pg_schema, table],
    ).fetchone()
    if kind is None:
        return None, {}
    rows = conn.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        [f"{pg_schema}.{table}"],
    ).fetchall()
    return kind[0], dict(rows)


def ensure_tables(conn: Connection, pg_schema: str, colors: Iterable[str]) -> None:
    """Create the schema, the trip tables of the colours and their clean views and the zone table if
    missing, or add the columns the schema gained. DDL runs only when a table or view differs from
    the schema (a load of an up-to-date table takes no lock on it here), and then with a lock
    timeout (postgres.locks)."""
    statements = []
    for color in colors:
        sch = schema.trip_schema(color)
        kind, columns = _columns(conn, pg_schema, sch.table)
        if kind not in (None, "p"):
            raise RuntimeError(
                f"{pg_schema}.{sch.table} exists but is not partitioned by source_month: rename or drop it "
                "(this bundle replaces months by swapping partitions)"
            )
        expected = {c.name: c.kind.postgres for c in sch.columns}
        view_differs = sch.clean_view is not None and _columns(conn, pg_schema, sch.clean_view)[1] != expected
        if columns != expected or view_differs:
            statements += trips_ddl(sch, pg_schema)
    kind, columns = _columns(conn, pg_schema, ZONE_TABLE)
    if columns != {c.name: c.kind.postgres for c in ZONE_COLUMNS}:
        statements += zones_ddl(pg_schema)
    if not statements:
        return

    def run() -> None:
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('taxi_flows.ddl'))")
        for statement in statements:
            conn.execute(statement)

    under_lock_timeout(conn, f"{pg_schema} tables", run)
