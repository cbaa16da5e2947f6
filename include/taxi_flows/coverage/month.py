"""The coverage page's month view (`/taxi/month/<color>/<YYYY-MM>`, templates/month.html): every
target's rows, files, bytes and last load (when, a link to the run that wrote it, the source URL:
coverage.store's counts and their Asset events), whichever targets have the month; the last
PostgreSQL load's figures (the source file's URL, bytes, Last-Modified and ETag; its rows, all
loaded; what the course's cleaning would remove; each quality check with its value and verdict),
or, without one, what the GCS load's manifest recorded; and its first rows in PostgreSQL."""

from __future__ import annotations

import datetime as dt

from taxi_flows.coverage import store
from taxi_flows.coverage.html import render
from taxi_flows.settings import POSTGRES_SCHEMA

PREVIEW_ROWS = 20
HIDDEN = (
    "<p>Hidden: these are the trips themselves, which Airflow shows only to a role that may read the "
    "connection taxi_postgres (Op or Admin).</p>"
)


def checks(summary: dict) -> list[tuple[str, str, str]]:
    """(check, value, verdict) of a load summary, against core.quality's thresholds (shares of the
    rows read; a summary of an older version's load has rows_kept for rows_clean)."""
    from taxi_flows.core import quality

    read = summary.get("rows_read") or 0
    out = []
    if summary.get("rows_clean", summary.get("rows_kept", 0)) is not None:  # None: fhv, fhvhv (not cleaned)
        clean = summary.get("rows_clean", summary.get("rows_kept")) or 0
        share = clean / read if read else 0.0
        verdict = "pass" if share >= quality.MIN_CLEAN_SHARE else "fail"
        out.append(
            ("rows the course's cleaning keeps", f"{share:.1%} (at least {quality.MIN_CLEAN_SHARE:.0%})", verdict)
        )
    for field, what, limit in (
        ("unknown_vendor", f"a vendor_id other than {quality.VENDOR_CODES} or blank", quality.MAX_UNKNOWN_VENDOR_SHARE),
        ("out_of_month_pickups", "a pickup outside the file's month", quality.MAX_OUT_OF_MONTH_SHARE),
    ):
        n = summary.get(field, 0) or 0
        share = n / read if read else 0.0
        out.append((what, f"{n:,} ({share:.2%}; limit {limit:.0%})", "pass" if share <= limit else "fail"))
    for field, what, max_share in quality.PLAUSIBILITY:
        n = summary.get(field, 0) or 0
        share = n / read if read else 0.0
        out.append((what, f"{n:,} ({share:.2%}; limit {max_share:.1%})", "pass" if share <= max_share else "fail"))
    return out


def source_figures(s: dict) -> list[tuple[str, object]]:
    """The load summary's facts of the source file and its rows, as the month view lists them."""
    size = s.get("source_uncompressed_bytes")
    return [
        ("source", f"{s['source_name']} ({s.get('source_layout')} layout)" if s.get("source_name") else None),
        ("source file", s.get("source_url")),
        ("bytes (compressed, as downloaded)", s.get("source_bytes")),
        ("bytes uncompressed", f"{size:,} ({size / 2**20:.1f} MiB)" if size is not None else None),
        ("Last-Modified", s.get("source_last_modified")),
        ("ETag", s.get("source_etag")),
        ("data rows in the file", s.get("rows_read")),
        ("rows written (every row)", s.get("rows_written")),
        ("the cleaning would remove: passenger_count blank or not > 0", s.get("cleaning_removes_passenger_count")),
        ("… and then: trip_distance blank or not > 0", s.get("cleaning_removes_trip_distance")),
        ("rows after the cleaning (the view <color>_tripdata_clean)", s.get("rows_clean")),
        ("rows of the blank dispatch tail (VendorID blank)", s.get("blank_vendor")),
    ]


def month_html(conn, color: str, first: dt.date, rows: bool = True) -> str:
    """The month view of a colour (checked) and month; its first rows only if `rows` (the user may
    read them: coverage.page.ROWS_NEED)."""
    from taxi_flows.coverage.homework import every_row

    month = f"{first:%Y-%m}"
    load = store.read_loads(conn, color).get((color, month))
    counts, counted_run, checked_at = store.read_counts(conn)
    found = {c.target: c for c in counts if (c.color, c.month) == (color, month)}
    values = {
        "title": f"{color} {month}",
        "color": color,
        "month": month,
        "recorded": bool(load or found),
        "counted_by": ("taxi_reconcile", counted_run) if counted_run else None,
        "checked_at": f"{checked_at:%Y-%m-%d %H:%M}" if checked_at else None,
        "targets": targets(found, load),
        "load": None,
        "manifest": None,
        "preview_rows": PREVIEW_ROWS,
        "preview": preview(conn, color, first) if rows else None,
    }
    if load is not None:
        s = load["summary"]
        values["load"] = {
            "at": f"{load['loaded_at']:%Y-%m-%d %H:%M}",
            "run": (load["dag_id"], load["run_id"]),
            "old": not every_row(s),
            "figures": source_figures(s),
            "checks": checks(s),
        }
    elif (written := found.get("gcs_dataset")) is not None and written.source:
        facts = source_figures({**written.source, "rows_written": written.rows})
        values["manifest"] = [(k, v) for k, v in facts if v]
    return render("month.html", **values)


def targets(found: dict[str, store.Count], load: dict | None) -> list[dict]:
    """One line per target (store.TARGETS): its rows, files, bytes and last load (when, the run,
    the source URL); PostgreSQL's load from its record where the count has none."""
    out = []
    for target, label in store.TARGETS.items():
        c = found.get(target)
        last = dict((c.load if c else None) or {})
        if target == "postgres" and load is not None:
            last |= {
                "at": load["loaded_at"].isoformat(),
                "dag_id": load["dag_id"],
                "run_id": load["run_id"],
                "source_url": load["summary"].get("source_url"),
            }
        at = last.get("at")
        out.append(
            {
                "target": target,
                "label": label,
                "rows": c.rows if c else None,
                "files": c.files if c else None,
                "bytes": last.get("bytes"),
                "at": _minute(at) if at else None,
                "run": (last["dag_id"], last["run_id"]) if last.get("dag_id") and last.get("run_id") else None,
                "url": last.get("source_url"),
            }
        )
    return out


def _minute(iso: str) -> str:
    when = dt.datetime.fromisoformat(iso)
    when = when.astimezone(dt.UTC) if when.tzinfo else when
    return f"{when:%Y-%m-%d %H:%M}"


def preview(conn, color: str, first: dt.date) -> dict:
    """The month's first rows in PostgreSQL: {"names", "rows"}, or {"text"} when there are none."""
    table = conn.execute("SELECT to_regclass(%s)", (f"{POSTGRES_SCHEMA}.{color}_tripdata",)).fetchone()[0]
    if table is None:
        return {"text": "No table."}
    cur = conn.execute(
        f"SELECT * FROM {POSTGRES_SCHEMA}.{color}_tripdata WHERE source_month = %s LIMIT {PREVIEW_ROWS}",
        (first,),
    )
    names = [d.name for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        return {"text": "No rows of this month."}
    return {"names": names, "rows": [[str(v) for v in r] for r in rows]}
