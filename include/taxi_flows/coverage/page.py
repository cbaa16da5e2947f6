"""The coverage page of the Airflow UI (Airflow 3.1+; plugins/taxi_flows_plugin.py mounts it at
/taxi and links it in the navigation): what taxi_reconcile stored, as HTML.

- `/taxi/`: the grid, colour x source month, one line per target; equal counts green, a
  difference red with the numbers; a target without the month is grey.
- `/taxi/month/<color>/<YYYY-MM>`: the month's last load (the source file's URL, bytes,
  Last-Modified and ETag; its rows, all loaded; what the course's cleaning would remove; each
  quality check with its value and verdict; when, a link to its run) and its first rows in
  PostgreSQL.
- `/taxi/homework?color=green&month=2020-10`: the course's questions answered from what is loaded
  (coverage.homework): the 2024 week-2 homework for the month's quarter, the 2025/2026 week-2
  questions for its year and the month, module 4's totals; without parameters, the latest month
  loaded. A period not loaded names its missing months and the backfill command that loads them.

It reads the target database only (coverage.store, through the connection taxi_postgres): never
GCS or BigQuery, so it answers as fast against real Google Cloud as against the emulators. It
answers only a signed-in Airflow user (compat.airflow_user: the UI's token cookie, which the
browser sends to the embedded page, or a Bearer token); anyone else gets 401.
"""

from __future__ import annotations

import re
from html import escape

from taxi_flows.core.months import month_start
from taxi_flows.coverage import store
from taxi_flows.coverage.counts import grid
from taxi_flows.settings import FIRST_SOURCE_MONTH, LAST_SOURCE_MONTH, POSTGRES_SCHEMA

PREFIX = "/taxi"
PREVIEW_ROWS = 20
STYLE = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}
td.ok{background:#c8f0c8}td.bad{background:#f6b8b8;font-weight:bold}td.none{color:#999}
td.l,th.l{text-align:left}a{color:#0a58ca}.missing{color:#a00}p.bad{color:#a00}"""


def _page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h2>{escape(title)}</h2>{body}</body></html>"
    )


def _run_link(dag_id: str, run_id: str) -> str:
    """A link to the run in Airflow's UI. It opens in the page's frame: Airflow's sandbox of plugin
    pages allows neither top navigation nor pop-ups."""
    return f"<a href='/dags/{escape(dag_id)}/runs/{escape(run_id)}'>{escape(run_id)}</a>"


def _connection():
    from taxi_flows.postgres.connection import postgres_connection

    return postgres_connection()


def grid_html(counts: list[store.Count], run_id: str | None, checked_at) -> str:
    if not counts:
        return _page("Taxi coverage", "<p>No counts yet: run (or unpause) the DAG <b>taxi_reconcile</b>.</p>")
    cells = grid(counts)
    parts = [
        f"<p>Counted by {_run_link('taxi_reconcile', run_id or '')} "
        f"at {checked_at:%Y-%m-%d %H:%M} UTC. Green: equal rows in every target that has the month; "
        "red: a difference. <a href='homework'>Homework figures</a></p>"
    ]
    for color in sorted({c for c, _ in cells}, key=lambda c: c != "yellow"):
        months = [m for c, m in cells if c == color]
        head = "".join(f"<th><a href='month/{color}/{m}'>{m}</a></th>" for m in months)
        rows = []
        for target, label in store.TARGETS.items():
            tds = []
            for m in months:
                found = cells[(color, m)]
                c = found.get(target)
                cell = f"data-cell='{color} {m} {target}'"
                if c is None:
                    tds.append(f"<td class='none' {cell}>—</td>")
                    continue
                ok = len({x.rows for x in found.values()}) == 1
                files = f" ({c.files} files)" if c.files is not None else ""
                tds.append(f"<td class='{'ok' if ok else 'bad'}' {cell}>{c.rows:,}{files}</td>")
            rows.append(f"<tr><th class='l'>{escape(label)}</th>{''.join(tds)}</tr>")
        parts.append(f"<h3>{color}</h3><table><tr><th class='l'>target</th>{head}</tr>{''.join(rows)}</table>")
    return _page("Taxi coverage", "".join(parts))


def checks(summary: dict) -> list[tuple[str, str, str]]:
    """(check, value, verdict) of a load summary, against core.quality's thresholds (shares of the
    rows read; a summary of an older version's load has rows_kept for rows_clean)."""
    from taxi_flows.core import quality

    read = summary.get("rows_read") or 0
    clean = summary.get("rows_clean", summary.get("rows_kept")) or 0
    share = clean / read if read else 0.0
    verdict = "pass" if share >= quality.MIN_CLEAN_SHARE else "fail"
    out = [("rows the course's cleaning keeps", f"{share:.1%} (at least {quality.MIN_CLEAN_SHARE:.0%})", verdict)]
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


def _figure(value) -> str:
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else escape(str(value))


PASSENGERS = "cleaning_removes_passenger_count"


def source_figures(s: dict) -> list[tuple[str, object]]:
    """The load summary's facts of the source file and its rows, as the month view lists them."""
    size = s.get("source_uncompressed_bytes")
    return [
        ("source file", s.get("source_url")),
        ("bytes (compressed, as downloaded)", s.get("source_bytes")),
        ("bytes uncompressed", f"{size:,} ({size / 2**20:.1f} MiB)" if size is not None else None),
        ("Last-Modified", s.get("source_last_modified")),
        ("ETag", s.get("source_etag")),
        ("data rows in the file", s.get("rows_read")),
        ("rows written (every row)", s.get("rows_written")),
        ("the course's cleaning would remove: passenger_count blank or not > 0", s.get(PASSENGERS)),
        ("… and then: trip_distance blank or not > 0", s.get("cleaning_removes_trip_distance")),
        ("rows after the cleaning (the view _clean)", s.get("rows_clean")),
        ("rows of the blank dispatch tail (VendorID blank)", s.get("blank_vendor")),
    ]


def month_html(conn, color: str, month: str) -> str:
    from taxi_flows.core.schema import COLORS

    if color not in COLORS or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        return _page("Taxi coverage", f"<p>Ask for a colour in {list(COLORS)} and a month like 2021-01.</p>")
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
    body.append(f"<h3>First {PREVIEW_ROWS} rows in PostgreSQL</h3>{preview_html(conn, color, month)}")
    return _page(f"{color} {month}", "".join(body))


def preview_html(conn, color: str, month: str) -> str:
    table = conn.execute("SELECT to_regclass(%s)", (f"{POSTGRES_SCHEMA}.{color}_tripdata",)).fetchone()[0]
    if table is None:
        return "<p>No table.</p>"
    cur = conn.execute(
        f"SELECT * FROM {POSTGRES_SCHEMA}.{color}_tripdata WHERE source_month = %s LIMIT {PREVIEW_ROWS}",
        (month_start(month),),
    )
    names = [d.name for d in cur.description]
    rows = cur.fetchall()
    if not rows:
        return "<p>No rows.</p>"
    head = "".join(f"<th>{escape(n)}</th>" for n in names)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table class='preview'><tr>{head}</tr>{body}</table>"


def homework_html(conn, color: str | None = None, month: str | None = None, quarter: str | None = None) -> str:
    """The course's questions for a colour and month (or the first month of a quarter), answered
    from what is loaded; without them, for the latest month loaded."""
    from taxi_flows.core.schema import COLORS
    from taxi_flows.coverage import homework

    loads = store.read_loads(conn)
    if quarter and not month and (match := re.fullmatch(r"(\d{4})-Q([1-4])", quarter)):
        month = f"{match[1]}-{3 * int(match[2]) - 2:02d}"
    if color is None and month is None:
        color, first = homework.default_period(loads)
        month = f"{first:%Y-%m}"
    color = color or "green"
    month = month or ""
    form = (
        "<form><select name='color'>"
        + "".join(f"<option{' selected' if c == color else ''}>{c}</option>" for c in COLORS)
        + f"</select> <input name='month' value='{escape(month)}' placeholder='2020-10'> <button>Show</button></form>"
    )
    back = "<p><a href='.'>← all months</a></p>"
    if color not in COLORS or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        return _page("Homework", f"{back}{form}<p>Ask for a colour in {list(COLORS)} and a month like 2020-10.</p>")
    first = month_start(month)
    if not homework.published([first]):
        return _page(
            "Homework",
            f"{back}{form}<p>{escape(month)} is outside the source's months, "
            f"{FIRST_SOURCE_MONTH:%Y-%m} … {LAST_SOURCE_MONTH:%Y-%m}.</p>",
        )
    parts = [
        back,
        form,
        "<p>From the loads of <b>taxi_web_to_postgres</b>: every row of each file, as written. "
        "The 2025/2026 answers are students' reports, not an official key.</p>",
    ]
    for section in homework.sections(conn, loads, color, first):
        rows = []
        for a in section.answers:
            cell = escape(a.value)
            if a.missing:
                cell += (
                    f"<br><span class='missing'>not loaded: {escape(', '.join(a.missing))}; load them with</span>"
                    f"<br><code>{escape(a.command or '')}</code>"
                )
            rows.append(f"<tr><th class='l'>{escape(a.question)}</th><td class='l'>{cell}</td></tr>")
        parts.append(f"<h3>{escape(section.title)}</h3><table>{''.join(rows)}</table>")
    return _page(f"Homework: {color} {month}", "".join(parts))


def create_app(dependencies: list | None = None):
    """The page's app; `dependencies` run before every request (the plugin's: an Airflow user)."""
    from fastapi import FastAPI
    from fastapi.responses import HTMLResponse

    app = FastAPI(title="Taxi coverage", dependencies=dependencies or [])

    @app.get("/", response_class=HTMLResponse)
    def coverage() -> str:
        with _connection() as conn:
            return grid_html(*store.read_counts(conn))

    @app.get("/month/{color}/{month}", response_class=HTMLResponse)
    def month(color: str, month: str) -> str:
        with _connection() as conn:
            return month_html(conn, color, month)

    @app.get("/homework", response_class=HTMLResponse)
    def homework(color: str | None = None, month: str | None = None, quarter: str | None = None) -> str:
        with _connection() as conn:
            return homework_html(conn, color, month, quarter)

    return app
