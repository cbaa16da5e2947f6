"""The coverage page's month view (`/taxi/month/<color>/<YYYY-MM>`): the month's last load (the
source file's URL, bytes, Last-Modified and ETag; its rows, all loaded; what the course's cleaning
would remove; each quality check with its value and verdict; when, a link to its run), or, without
a PostgreSQL load, what the GCS load's manifest recorded; and its first rows in PostgreSQL."""

from __future__ import annotations

import datetime as dt
from html import escape

from taxi_flows.coverage import store
from taxi_flows.coverage.html import figure as _figure
from taxi_flows.coverage.html import page as _page
from taxi_flows.coverage.html import run_link as _run_link
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
    month = f"{first:%Y-%m}"
    load = store.read_loads(conn, color).get((color, month))
    body = ["<p><a href='../..'>← all months</a></p>"]
    if load is None:
        body.append("<p>No PostgreSQL load of this month is recorded.</p>")
        counts, _, _ = store.read_counts(conn)
        written = [c for c in counts if (c.color, c.month, c.target) == (color, month, "gcs_dataset") and c.source]
        if written:  # the source file's facts, as the GCS load's manifest recorded them
            facts = source_figures({**written[0].source, "rows_written": written[0].rows})
            body.append(
                "<p>As the pickup-date dataset's manifest in GCS records its load (taxi_web_to_gcs):</p><table>"
                + "".join(f"<tr><th class='l'>{escape(k)}</th><td>{_figure(v)}</td></tr>" for k, v in facts if v)
                + "</table>"
            )
    else:
        s = load["summary"]
        body.append(
            f"<p>Last load {load['loaded_at']:%Y-%m-%d %H:%M} UTC by {_run_link(load['dag_id'], load['run_id'])}</p>"
        )
        from taxi_flows.coverage.homework import every_row

        if not every_row(s):
            body.append(
                "<p class='bad'>This month was loaded by an older version of the bundle, which kept only the rows "
                "of the course's cleaning: run it again (<i>Clear</i> its run) to load every row.</p>"
            )
        body.append(
            "<table>"
            + "".join(f"<tr><th class='l'>{escape(k)}</th><td>{_figure(v)}</td></tr>" for k, v in source_figures(s))
        )
        body.append(
            "</table><h3>Quality checks</h3><table><tr><th class='l'>check</th><th>value</th><th>verdict</th></tr>"
        )
        for what, value, verdict in checks(s):
            css = "ok" if verdict == "pass" else "bad"
            body.append(f"<tr><td class='l'>{escape(what)}</td><td>{value}</td><td class='{css}'>{verdict}</td></tr>")
        body.append("</table>")
    preview = preview_html(conn, color, first) if rows else HIDDEN
    body.append(f"<h3>First {PREVIEW_ROWS} rows in PostgreSQL</h3>{preview}")
    return _page(f"{color} {month}", "".join(body))


def preview_html(conn, color: str, first: dt.date) -> str:
    table = conn.execute("SELECT to_regclass(%s)", (f"{POSTGRES_SCHEMA}.{color}_tripdata",)).fetchone()[0]
    if table is None:
        return "<p>No table.</p>"
    cur = conn.execute(
        f"SELECT * FROM {POSTGRES_SCHEMA}.{color}_tripdata WHERE source_month = %s LIMIT {PREVIEW_ROWS}",
        (first,),
    )
    names = [d.name for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        return "<p>No rows.</p>"
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table class='preview'><tr>{head}</tr>{body}</table>"
