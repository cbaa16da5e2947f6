"""The coverage page of the Airflow UI (Airflow 3.1+; plugins/taxi_flows_plugin.py mounts it at
/taxi and links it in the navigation): what taxi_reconcile stored, as HTML.

- `/taxi/`: the grid, colour x source month, one line per target; equal counts green, a
  difference red with the numbers; a target without the month is grey.
- `/taxi/month/<color>/<YYYY-MM>`: the month's last load and its first rows in PostgreSQL
  (coverage.month).
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
from taxi_flows.coverage.html import page as _page
from taxi_flows.coverage.html import run_link as _run_link
from taxi_flows.coverage.month import month_html

PREFIX = "/taxi"


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


def homework_html(conn, color: str | None = None, month: str | None = None, quarter: str | None = None) -> str:
    """The course's questions for a colour and month (or the first month of a quarter), answered
    from what is loaded; without them, for the latest month loaded."""
    from taxi_flows.core.schema import DEFAULT_COLORS as COLORS  # week 2's homework asks of yellow and green
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
    if not homework.published([first], color):
        return _page(
            "Homework",
            f"{back}{form}<p>{escape(month)} is outside the source's months of {escape(color)}: no source has it "
            f"(the TLC's {color} starts in {'2009' if color == 'yellow' else '2014'}, and a month is published about "
            "two months after it ends).</p>",
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


def plugin_parts() -> tuple[list, list]:
    """The plugin's FastAPI app and navigation link of the page (plugins/taxi_flows_plugin.py) on
    Airflow 3.1+ (compat.PLUGIN_FASTAPI_APPS); nothing before."""
    from taxi_flows.orchestration.compat import PLUGIN_FASTAPI_APPS, airflow_user

    if not PLUGIN_FASTAPI_APPS:
        return [], []
    app = {"app": create_app([airflow_user()]), "url_prefix": PREFIX, "name": "Taxi coverage"}
    link = {"name": "Taxi coverage", "href": f"{PREFIX}/", "destination": "nav", "url_route": "taxi_coverage"}
    return [app], [link]


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
