"""Count every target per colour and month (what taxi_reconcile stores), and say where they
disagree. Each target is counted where it lives: PostgreSQL and BigQuery by a GROUP BY, the GCS
monthly files by their Parquet footers (no data read), the pickup-date dataset by its committed
manifests (gcs.manifest: rows and files of the load each month's readers see)."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from typing import TYPE_CHECKING

from taxi_flows.core.months import month_start
from taxi_flows.core.schema import trip_schema
from taxi_flows.coverage.store import TARGETS, Count
from taxi_flows.gcs import layout, manifest
from taxi_flows.postgres.tables import partition_name

if TYPE_CHECKING:
    from google.cloud import bigquery, storage
    from psycopg import Connection

_MONTHLY = re.compile(r"_tripdata_(?P<month>\d{4}-\d{2})\.parquet$")
_MANIFEST = re.compile(r"/(?P<month>\d{4}-\d{2})\.json$")


def postgres(conn: Connection, schema: str, color: str) -> list[Count]:
    table = f"{schema}.{trip_schema(color).table}"
    if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
        return []
    rows = conn.execute(
        f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM {table} GROUP BY 1 ORDER BY 1"
    ).fetchall()
    out = []
    for m, n in rows:  # each month's bytes: its partition's, indexes included
        part = f"{schema}.{partition_name(trip_schema(color), month_start(m))}"
        size = conn.execute("SELECT pg_total_relation_size(to_regclass(%s))", (part,)).fetchone()[0]
        out.append(Count(color, m, "postgres", n, load={"bytes": size} if size else None))
    return out


def gcs(client: storage.Client, bucket: str, color: str, absent: list[str] | None = None) -> list[Count]:
    """The monthly files' rows (footer only) and each committed month of the dataset. A file a
    month's manifest names that is not in the bucket goes into absent (one sentence per month)."""
    import pyarrow.parquet as pq

    out = []
    for blob in client.list_blobs(bucket, prefix=f"{color}/{color}_tripdata_"):
        if match := _MONTHLY.search(blob.name):
            with blob.open("rb") as f:
                rows = pq.ParquetFile(f).metadata.num_rows
            load = {"bytes": blob.size, "at": _iso(blob.updated)}
            out.append(Count(color, match["month"], "gcs_monthly", rows, load=load))
    present = {blob.name: blob.size for blob in client.list_blobs(bucket, prefix=layout.dataset_prefix(color))}
    for blob in client.list_blobs(bucket, prefix=layout.manifests_prefix(color)):
        if match := _MANIFEST.search(blob.name):
            month = manifest.parse(blob.download_as_bytes())
            names = month.names()
            load = {"bytes": sum(present.get(name) or 0 for name in names), "at": _iso(blob.updated)}
            source = month.source or None
            out.append(Count(color, match["month"], "gcs_dataset", month.rows, len(names), source, load))
            missing = sorted(name for name in names if name not in present)
            if missing and absent is not None:
                absent.append(
                    f"{color} {match['month']}: {len(missing)} of the {len(names)} files its manifest commits "
                    f"are missing from the pickup-date dataset ({layout.uri(bucket, missing[0])} …)"
                )
    return out


def with_last_loads(found: list[Count], events: dict[str, list]) -> list[Count]:
    """The counts, each with its target's last load as its latest Asset event tells it (when, the
    DAG and run, the source URL), over what the target itself gave (bytes, when written). events:
    {target: the target's Asset events, any order}; a month without an event keeps what it has."""
    latest: dict[tuple[str, str, str], object] = {}
    for target, target_events in events.items():
        for event in target_events:
            extra = getattr(event, "extra", None) or {}
            key = (extra.get("color"), extra.get("month"), target)
            if key in latest and latest[key].timestamp >= event.timestamp:
                continue
            latest[key] = event
    out = []
    for c in found:
        event = latest.get((c.color, c.month, c.target))
        load = dict(c.load or {})
        if event is not None:
            extra = event.extra or {}
            load |= {
                "at": _iso(event.timestamp),
                "dag_id": getattr(event, "source_dag_id", None),
                "run_id": getattr(event, "source_run_id", None),
            }
            url = extra.get("source_url") or (extra.get("uri") if c.target == "bigquery" else None)
            if url:
                load["source_url"] = url
        out.append(replace(c, load={k: v for k, v in load.items() if v is not None} or None))
    return out


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def absences(previous: list[Count], found: list[Count], loads: dict[tuple[str, str], dict]) -> list[str]:
    """One sentence per colour, month and target that lacks a month it should have: one that held
    rows at the last count (previous) and holds none now; PostgreSQL without the rows of a load it
    recorded (loads: coverage.store.read_loads); a dataset month committed without its monthly file."""
    have = {(c.color, c.month, c.target) for c in found if c.rows}
    out: dict[tuple[str, str, str], str] = {}
    for (color, month), load in sorted(loads.items()):
        written = (load.get("summary") or {}).get("rows_written")
        if written and (color, month, "postgres") not in have:
            out[(color, month, "postgres")] = (
                f"{color} {month}: {TARGETS['postgres']} none, though run {load['run_id']} loaded {written:,}"
            )
    for c in found:
        if c.target == "gcs_dataset" and c.rows and (c.color, c.month, "gcs_monthly") not in have:
            out.setdefault(
                (c.color, c.month, "gcs_monthly"),
                f"{c.color} {c.month}: {TARGETS['gcs_monthly']} none (no file), though the dataset commits {c.rows:,}",
            )
    for c in previous:
        if c.rows and (c.color, c.month, c.target) not in have:
            sentence = f"{c.color} {c.month}: {TARGETS[c.target]} none, {c.rows:,} at the last count"
            out.setdefault((c.color, c.month, c.target), sentence)
    return [out[key] for key in sorted(out)]


def bigquery(bq: bigquery.Client, table: str, color: str) -> list[Count]:
    from google.api_core.exceptions import NotFound

    try:
        bq.get_table(table)
    except NotFound:
        return []
    job = bq.query(f"SELECT FORMAT_DATE('%Y-%m', source_month) AS m, COUNT(*) AS n FROM `{table}` GROUP BY m")
    return sorted((Count(color, r.m, "bigquery", r.n) for r in job.result()), key=lambda c: c.month)


def mismatches(counts: list[Count]) -> list[str]:
    """One sentence per colour and month whose targets hold different numbers of rows (a target
    that does not have the month is not compared: it may not be loaded yet)."""
    by_month: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for c in counts:
        by_month[(c.color, c.month)][c.target] = c.rows
    out = []
    for (color, month), rows in sorted(by_month.items()):
        if len(set(rows.values())) > 1:
            found = ", ".join(f"{TARGETS[t]} {rows[t]:,}" for t in TARGETS if t in rows)
            out.append(f"{color} {month}: {found}")
    return out


def grid(counts: list[Count]) -> dict[tuple[str, str], dict[str, Count]]:
    """{(colour, month): {target: Count}}, sorted by colour and month."""
    out: dict[tuple[str, str], dict[str, Count]] = defaultdict(dict)
    for c in counts:
        out[(c.color, c.month)][c.target] = c
    return dict(sorted(out.items()))
