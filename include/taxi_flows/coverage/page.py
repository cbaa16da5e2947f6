"""The coverage page of the Airflow UI (Airflow 3.1+; plugins/taxi_flows_plugin.py mounts it at
/taxi and links it in the navigation): what taxi_reconcile stored, as HTML.

- `/taxi/`: the grid, colour x source month, one line per target; equal counts green, a
  difference red with the numbers; a target without the month is grey.
- `/taxi/month/<color>/<YYYY-MM>`: the month's last load (rows read, removed by each rule, kept,
  each quality check with its value and verdict, when, a link to its run) and its first rows in
  PostgreSQL.
- `/taxi/homework?color=green&quarter=2020-Q4`: the course homework's figures for a colour and
  quarter, from the stored load summaries and counts (and the distinct vendor ids in PostgreSQL).

It reads the target database only (coverage.store, through the connection taxi_postgres): never
GCS or BigQuery, so it answers as fast against real Google Cloud as against the emulators. It
answers only a signed-in Airflow user (compat.airflow_user: the UI's token cookie, which the
browser sends to the embedded page, or a Bearer token); anyone else gets 401.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from taxi_flows.core.months import month_start, next_month
from taxi_flows.coverage import store
from taxi_flows.coverage.counts import grid
from taxi_flows.settings import POSTGRES_SCHEMA

PREFIX = "/taxi"
PREVIEW_ROWS = 20
STYLE = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}
td.ok{background:#c8f0c8}td.bad{background:#f6b8b8;font-weight:bold}td.none{color:#999}
td.l,th.l{text-align:left}a{color:#0a58ca}"""


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
    """(check, value, verdict) of a load summary, against core.quality's thresholds."""
    from taxi_flows.core import quality

    kept, read = summary.get("rows_kept") or 0, summary.get("rows_read") or 0
    share = kept / read if read else 0.0
    verdict = "pass" if share >= quality.MIN_KEPT_SHARE else "fail"
    out = [("rows kept of rows read", f"{share:.1%} (at least {quality.MIN_KEPT_SHARE:.0%})", verdict)]
    for field, what, limit in (
        ("unknown_vendor", "a vendor_id other than 1 or 2", quality.MAX_UNKNOWN_VENDOR_SHARE),
        ("out_of_month_pickups", "a pickup outside the file's month", quality.MAX_OUT_OF_MONTH_SHARE),
    ):
        n = summary.get(field, 0) or 0
        share = n / kept if kept else 0.0
        out.append((what, f"{n:,} ({share:.2%}; limit {limit:.0%})", "pass" if share <= limit else "fail"))
    for field, what, max_share in quality.PLAUSIBILITY:
        n = summary.get(field, 0) or 0
        share = n / kept if kept else 0.0
        verdict = "pass" if (n == 0 or share <= max_share) and (max_share > 0 or n == 0) else "fail"
        out.append((what, f"{n:,} ({share:.2%}; limit {max_share:.1%})", verdict))
    return out


def month_html(conn, color: str, month: str) -> str:
    from taxi_flows.core.schema import COLORS

    if color not in COLORS or not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        return _page("Taxi coverage", f"<p>Ask for a colour in {list(COLORS)} and a month like 2021-01.</p>")
    load = store.read_loads(conn, color).get((color, month))
    body = ["<p><a href='../..'>← all months</a></p>"]
    if load is None:
        body.append("<p>No PostgreSQL load of this month is recorded.</p>")
    else:
        s = load["summary"]
        body.append(
            f"<p>Last load {load['loaded_at']:%Y-%m-%d %H:%M} UTC by {_run_link(load['dag_id'], load['run_id'])}</p>"
        )
        figures = [
            ("rows read", s.get("rows_read")),
            ("removed: passenger_count blank or not > 0", s.get("removed_passenger_count")),
            ("removed: trip_distance blank or not > 0", s.get("removed_trip_distance")),
            ("rows kept", s.get("rows_kept")),
        ]
        body.append("<table>" + "".join(f"<tr><th class='l'>{k}</th><td>{v:,}</td></tr>" for k, v in figures))
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


def homework_html(conn, color: str, quarter: str) -> str:
    from taxi_flows.core.schema import COLORS, snake_case, trip_schema

    match = re.fullmatch(r"(\d{4})-Q([1-4])", quarter)
    if color not in COLORS or not match:
        return _page("Homework", f"<p>Ask for a colour in {list(COLORS)} and a quarter like 2020-Q4.</p>")
    first = dt.date(int(match[1]), 3 * int(match[2]) - 2, 1)
    months = [first, next_month(first), next_month(next_month(first))]
    keys = [f"{m:%Y-%m}" for m in months]
    loads = store.read_loads(conn, color)
    counts, _, _ = store.read_counts(conn)
    got = [loads[(color, k)]["summary"] for k in keys if (color, k) in loads]
    vendors = (
        conn.execute(
            f"SELECT DISTINCT vendor_id FROM {POSTGRES_SCHEMA}.{color}_tripdata "
            "WHERE source_month BETWEEN %s AND %s ORDER BY 1",
            (months[0], months[-1]),
        ).fetchall()
        if got
        else []
    )
    files = sum(c.files or 0 for c in counts if c.color == color and c.month in keys and c.target == "gcs_dataset")
    renamed = [(c.source, c.name) for c in trip_schema(color).source_columns if c.source != snake_case(c.source)]
    rows = [
        ("months loaded (of 3)", len(got)),
        ("rows read", sum(s["rows_read"] for s in got)),
        ("rows after the filter (passenger_count > 0 and trip_distance > 0)", sum(s["rows_kept"] for s in got)),
        ("vendor ids", ", ".join(str(v[0]) for v in vendors) or "—"),
        ("pickup-date partition files in GCS", files),
        ("columns renamed to snake_case", ", ".join(f"{a} → {b}" for a, b in renamed)),
    ]
    table = "".join(
        f"<tr><th class='l'>{escape(k)}</th><td class='l'>{escape(f'{v:,}' if isinstance(v, int) else v)}</td></tr>"
        for k, v in rows
    )
    options = "".join(f"<option{' selected' if c == color else ''}>{c}</option>" for c in COLORS)
    form = (
        f"<form><select name='color'>{options}</select> "
        f"<input name='quarter' value='{escape(quarter)}'> <button>Show</button></form>"
    )
    return _page(f"Homework: {color} {quarter}", f"<p><a href='.'>← all months</a></p>{form}<table>{table}</table>")


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
    def homework(color: str = "green", quarter: str = "2020-Q4") -> str:
        with _connection() as conn:
            return homework_html(conn, color, quarter)

    return app
