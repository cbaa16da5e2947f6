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

It reads the stored figures of the target database only (coverage.store, through one connection of
its own: coverage.reader), never GCS, BigQuery or a scan of the trips, so it answers as fast
against real Google Cloud as against the emulators, and a burst of requests waits in a bounded
queue (then 503) instead of taking the api-server's threads.

Who reads what, as Airflow's auth manager says (compat.airflow_user, compat.may_read): a request
without a valid Airflow token (the UI's cookie, which the browser sends to the embedded page, or a
Bearer token) gets 401; the grid needs read access to the runs of taxi_reconcile, the homework and
month views to those of taxi_web_to_postgres (else 403); the month view's first rows, the trips
themselves, show only to a role that may read the connection taxi_postgres (a Viewer sees the
figures without them). A bad colour, month or quarter is a 400 that says what to ask. There are no
docs or OpenAPI routes, and no script.
"""

from __future__ import annotations

import datetime as dt
import re
from html import escape

from taxi_flows.core.months import month_start
from taxi_flows.coverage import store
from taxi_flows.coverage.counts import grid
from taxi_flows.coverage.html import page as _page
from taxi_flows.coverage.html import run_link as _run_link
from taxi_flows.coverage.month import month_html
from taxi_flows.coverage.reader import Busy, PageReader
from taxi_flows.settings import POSTGRES_CONN_ID

PREFIX = "/taxi"


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


class BadRequest(ValueError):
    """A colour, month or quarter the page cannot show: a 400 with this sentence."""


def parse_month(text: str, colors) -> dt.date:
    if not re.fullmatch(r"[1-9]\d{3}-(0[1-9]|1[0-2])", text):
        raise BadRequest(f"{text!r} is not a month: ask for one like 2021-01 (colours {', '.join(colors)}).")
    return month_start(text)


def parse_color(color: str, colors) -> str:
    if color not in colors:
        raise BadRequest(f"{color!r} is not a trip type here: ask for one of {', '.join(colors)}.")
    return color


def homework_html(loads: dict, color: str | None = None, month: str | None = None, quarter: str | None = None) -> str:
    """The course's questions for a colour and month (or the first month of a quarter), answered
    from the stored loads; without them, for the latest month loaded. BadRequest for a bad one."""
    from taxi_flows.core.schema import DEFAULT_COLORS as COLORS  # week 2's homework asks of yellow and green
    from taxi_flows.coverage import homework

    if quarter and not month:
        if not (match := re.fullmatch(r"([1-9]\d{3})-Q([1-4])", quarter)):
            raise BadRequest(f"{quarter!r} is not a quarter: ask for one like 2020-Q4.")
        month = f"{match[1]}-{3 * int(match[2]) - 2:02d}"
    if color is None and month is None:
        color, first = homework.default_period(loads)
        month = f"{first:%Y-%m}"
    color = parse_color(color or "green", COLORS)
    first = parse_month(month or "", COLORS)
    form = (
        "<form><select name='color'>"
        + "".join(f"<option{' selected' if c == color else ''}>{c}</option>" for c in COLORS)
        + f"</select> <input name='month' value='{escape(month)}' placeholder='2020-10'> <button>Show</button></form>"
    )
    back = "<p><a href='.'>← all months</a></p>"
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
    for section in homework.sections(loads, color, first):
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
    from taxi_flows.orchestration.compat import PLUGIN_FASTAPI_APPS, airflow_user, may_read

    if not PLUGIN_FASTAPI_APPS:
        return [], []
    app = {"app": create_app(airflow_user(), may_read), "url_prefix": PREFIX, "name": "Taxi coverage"}
    link = {"name": "Taxi coverage", "href": f"{PREFIX}/", "destination": "nav", "url_route": "taxi_coverage"}
    return [app], [link]


# What each view needs of the user's role (compat.may_read): the runs of the DAG whose results it
# shows; the month view's first rows, the trips themselves, need what reading them through the
# connection taxi_postgres needs.
NEEDS = {"grid": {"dag_id": "taxi_reconcile"}, "loads": {"dag_id": "taxi_web_to_postgres"}}
ROWS_NEED = {"conn_id": POSTGRES_CONN_ID}


def create_app(user=None, may=None, reader: PageReader | None = None):
    """The page's app: user, a FastAPI dependency giving the signed-in Airflow user (401/403 before
    any view); may(user, dag_id=… | conn_id=…), the user's permission (None: both skipped, for a
    test of the views). No docs or OpenAPI routes: the page is HTML for Airflow's users only."""
    from fastapi import Depends, FastAPI
    from fastapi.responses import HTMLResponse
    from psycopg.errors import QueryCanceled
    from starlette.concurrency import run_in_threadpool

    reader = reader or PageReader()
    app = FastAPI(title="Taxi coverage", docs_url=None, redoc_url=None, openapi_url=None)
    signed_in = user if user is not None else Depends(lambda: None)

    async def allowed(who, need: dict) -> bool:
        return may is None or await run_in_threadpool(lambda: may(who, **need))

    async def view(who, need: dict, render) -> HTMLResponse:
        if not await allowed(who, need):
            what = f"the runs of the DAG {need['dag_id']}"
            return _answer(403, f"Your Airflow role may not read {what}, which this view shows.")
        try:
            return HTMLResponse(await reader.run(render))
        except (Busy, QueryCanceled) as e:
            return _answer(503, f"The page is busy: {e}. Try again in a moment.", {"Retry-After": "5"})

    def _answer(status: int, sentence: str, headers: dict | None = None) -> HTMLResponse:
        return HTMLResponse(_page("Taxi coverage", f"<p>{escape(sentence)}</p>"), status, headers)

    @app.get("/", response_class=HTMLResponse)
    async def coverage(who=signed_in):
        return await view(who, NEEDS["grid"], lambda conn: grid_html(*store.read_counts(conn)))

    @app.get("/month/{color}/{month}", response_class=HTMLResponse)
    async def month(color: str, month: str, who=signed_in):
        from taxi_flows.core.schema import COLORS

        try:
            first = parse_month(month, COLORS)
            parse_color(color, COLORS)
        except BadRequest as e:
            return _answer(400, str(e))
        rows = await allowed(who, ROWS_NEED)
        return await view(who, NEEDS["loads"], lambda conn: month_html(conn, color, first, rows))

    @app.get("/homework", response_class=HTMLResponse)
    async def homework(color: str | None = None, month: str | None = None, quarter: str | None = None, who=signed_in):
        def render(conn) -> str:
            return homework_html(store.read_loads(conn), color, month, quarter)

        try:
            return await view(who, NEEDS["loads"], render)
        except BadRequest as e:
            return _answer(400, str(e))

    return app
