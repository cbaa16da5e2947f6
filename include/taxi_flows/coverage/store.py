"""Where the coverage figures live: two tables of the target database (the connection taxi_postgres),
next to the trips, so the page and a user's SQL read them without touching GCS or BigQuery.

- `ny_taxi.taxi_loads`: one row per colour and month, the last PostgreSQL load's summary (rows
  read, removed by each rule, kept, the plausibility counts), its DAG run and time. Written by
  taxi_web_to_postgres after each load.
- `ny_taxi.taxi_coverage`: one row per colour, month and target (TARGETS): the rows there (and, for
  the pickup-date dataset, its files and the source file's facts its manifest records), and the
  target's last load (`load`: its bytes, when, the run that wrote it, the source URL, as far as the
  target and its Asset events say), as counted by the last taxi_reconcile run, with that run's id
  and time. Each reconcile run replaces the whole table in one transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from taxi_flows.settings import POSTGRES_SCHEMA

if TYPE_CHECKING:
    from psycopg import Connection

# What each target counts, in the grid's order.
TARGETS = {
    "postgres": "PostgreSQL rows",
    "gcs_monthly": "rows in the GCS monthly file",
    "gcs_dataset": "rows in the pickup-date dataset",
    "bigquery": "BigQuery rows",
}
LOADS = f"{POSTGRES_SCHEMA}.taxi_loads"
COVERAGE = f"{POSTGRES_SCHEMA}.taxi_coverage"

DDL = f"""
CREATE SCHEMA IF NOT EXISTS {POSTGRES_SCHEMA};
CREATE TABLE IF NOT EXISTS {LOADS} (
    color text NOT NULL,
    source_month date NOT NULL,
    summary jsonb NOT NULL,
    dag_id text NOT NULL,
    run_id text NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (color, source_month)
);
CREATE TABLE IF NOT EXISTS {COVERAGE} (
    color text NOT NULL,
    source_month date NOT NULL,
    target text NOT NULL,
    rows bigint NOT NULL,
    files integer,
    run_id text NOT NULL,
    checked_at timestamptz NOT NULL,
    source jsonb,
    PRIMARY KEY (color, source_month, target)
);
-- A table of an earlier version gains the column; a current one takes no lock here.
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = '{COVERAGE}'::regclass AND attname = 'source') THEN
    ALTER TABLE {COVERAGE} ADD COLUMN source jsonb;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = '{COVERAGE}'::regclass AND attname = 'load') THEN
    ALTER TABLE {COVERAGE} ADD COLUMN load jsonb;
  END IF;
END $$;
"""


@dataclass(frozen=True)
class Count:
    color: str
    month: str  # YYYY-MM
    target: str
    rows: int
    files: int | None = None
    source: dict | None = None  # the source file's facts the target recorded (the dataset's manifest)
    # The target's last load, where known: bytes, at (ISO time), dag_id, run_id, source_url.
    load: dict | None = None


def ensure(conn: Connection) -> None:
    """Make the tables, by the writers (a load, a reconcile run) only. An advisory lock, waited for
    with a bound (core.lock_wait): two first runs at once must not race on CREATE."""
    from taxi_flows.core.lock_wait import wait_for_lock

    with conn.transaction():
        wait_for_lock(
            lambda: conn.execute("SELECT pg_try_advisory_xact_lock(hashtext('taxi_flows.coverage'))").fetchone()[0],
            lambda: "a run creating the coverage tables (see pg_locks, locktype advisory)",
            f"creating {LOADS} and {COVERAGE}",
            1.0,
            "Find the transaction that holds it in pg_stat_activity and end it.",
            other="another run",
        )
        conn.execute(DDL)


def record_load(conn: Connection, color: str, month: dt.date, summary: dict, dag_id: str, run_id: str) -> None:
    """The last load of a colour and month, replacing the one before."""
    ensure(conn)
    conn.execute(
        f"INSERT INTO {LOADS} (color, source_month, summary, dag_id, run_id) VALUES (%s, %s, %s, %s, %s) "
        "ON CONFLICT (color, source_month) DO UPDATE SET summary = EXCLUDED.summary, dag_id = EXCLUDED.dag_id, "
        "run_id = EXCLUDED.run_id, loaded_at = now()",
        (color, month, json.dumps(summary, default=str), dag_id, run_id),
    )


def save_counts(conn: Connection, counts: list[Count], run_id: str) -> None:
    """Replace every stored count with these, in one transaction (readers see the old or the new)."""
    ensure(conn)
    now = dt.datetime.now(dt.UTC)
    with conn.transaction(), conn.cursor() as cur:
        cur.execute(f"DELETE FROM {COVERAGE}")
        cur.executemany(
            f"INSERT INTO {COVERAGE} (color, source_month, target, rows, files, source, load, run_id, checked_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (c.color, f"{c.month}-01", c.target, c.rows, c.files, _json(c.source), _json(c.load), run_id, now)
                for c in counts
            ],
        )


def _rows(conn: Connection, query: str, args: tuple = ()) -> list[tuple]:
    """A query's rows; none before the first load or reconcile run made the tables (the readers,
    the coverage page among them, never run DDL: its connection is read-only)."""
    from psycopg.errors import UndefinedTable

    try:
        return conn.execute(query, args).fetchall()
    except UndefinedTable:
        return []


def read_counts(conn: Connection) -> tuple[list[Count], str | None, dt.datetime | None]:
    """The stored counts, and the reconcile run that counted them and when (None when never)."""
    rows = _rows(
        conn,
        f"SELECT color, to_char(source_month, 'YYYY-MM'), target, rows, files, source, load, run_id, checked_at "
        f"FROM {COVERAGE} ORDER BY 1, 2, 3",
    )
    counts = [Count(*r[:7]) for r in rows]
    return counts, (rows[0][7] if rows else None), (rows[0][8] if rows else None)


def _json(value: dict | None) -> str | None:
    return json.dumps(value, default=str) if value else None


def read_loads(conn: Connection, color: str | None = None) -> dict[tuple[str, str], dict]:
    """{(colour, YYYY-MM): {"summary", "dag_id", "run_id", "loaded_at"}} of the last loads."""
    where, args = ("WHERE color = %s", (color,)) if color else ("", ())
    rows = _rows(
        conn,
        f"SELECT color, to_char(source_month, 'YYYY-MM'), summary, dag_id, run_id, loaded_at FROM {LOADS} {where}",
        args,
    )
    return {(c, m): {"summary": s, "dag_id": d, "run_id": r, "loaded_at": t} for c, m, s, d, r, t in rows}
