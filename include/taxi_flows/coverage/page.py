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
figures without them). A bad colour, month or quarter is a 400 that says what to ask (the homework
view keeps its form, and the values asked for). There are no docs or OpenAPI routes; the one
script is the page's own, inline (coverage.html: run links open in Airflow's window).

The HTML is Jinja2 templates in templates/, autoescaped (coverage.html).
"""

from __future__ import annotations

import datetime as dt
import re

from taxi_flows.core.months import month_start
from taxi_flows.coverage import store
from taxi_flows.coverage.counts import grid
from taxi_flows.coverage.html import message, render
from taxi_flows.coverage.month import month_html
from taxi_flows.coverage.reader import Busy, PageReader
from taxi_flows.settings import POSTGRES_CONN_ID

PREFIX = "/taxi"


def grid_html(counts: list[store.Count], run_id: str | None, checked_at) -> str:
    """The grid (templates/grid.html): per colour, a column per month and a line per target."""
    cells = grid(counts)
    colors = []
    for color in sorted({c for c, _ in cells}, key=lambda c: c != "yellow"):
        months = [m for c, m in cells if c == color]
        rows = []
        for target, label in store.TARGETS.items():
            line = []
            for m in months:
                found = cells[(color, m)]
                c = found.get(target)
                key = f"{color} {m} {target}"
                if c is None:
                    line.append({"css": "none", "key": key, "text": "—"})
                    continue
                ok = len({x.rows for x in found.values()}) == 1
                files = f" ({c.files} files)" if c.files is not None else ""
                line.append({"css": "ok" if ok else "bad", "key": key, "text": f"{c.rows:,}{files}"})
            rows.append({"label": label, "cells": line})
        colors.append({"color": color, "months": months, "rows": rows})
    return render(
        "grid.html",
        title="Taxi coverage",
        colors=colors,
        counted_by=("taxi_reconcile", run_id or ""),
        checked_at=f"{checked_at:%Y-%m-%d %H:%M}" if checked_at else "",
    )


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
    from the stored loads; without them, for the latest month loaded. BadRequest for a bad one
    (homework_form says it, above the form)."""
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
    values = {"colors": COLORS, "color": color, "month": month, "quarter": quarter or "", "error": None}
    if not homework.published([first], color):
        first_year = "2009" if color == "yellow" else "2014"
        return render("homework.html", title="Homework", outside=True, first_year=first_year, sections=[], **values)
    sections = homework.sections(loads, color, first)
    return render("homework.html", title=f"Homework: {color} {month}", outside=False, sections=sections, **values)


def homework_form(color: str | None, month: str | None, quarter: str | None, error: str) -> str:
    """The homework view with its form, the values asked for kept (escaped), and why they cannot
    be answered: a bad request leaves the user where they can correct it."""
    from taxi_flows.core.schema import DEFAULT_COLORS as COLORS

    values = {"colors": COLORS, "color": color or "", "month": month or "", "quarter": quarter or ""}
    return render("homework.html", title="Homework", error=error, outside=False, sections=[], **values)


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

    async def view(who, need: dict, page) -> HTMLResponse:
        if not await allowed(who, need):
            what = f"the runs of the DAG {need['dag_id']}"
            return _answer(403, f"Your Airflow role may not read {what}, which this view shows.")
        try:
            return HTMLResponse(await reader.run(page))
        except (Busy, QueryCanceled) as e:
            return _answer(503, f"The page is busy: {e}. Try again in a moment.", {"Retry-After": "5"})

    def _answer(status: int, sentence: str, headers: dict | None = None) -> HTMLResponse:
        return HTMLResponse(message("Taxi coverage", sentence), status, headers)

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
        def answer(conn) -> str:
            return homework_html(store.read_loads(conn), color, month, quarter)

        try:
            return await view(who, NEEDS["loads"], answer)
        except BadRequest as e:
            return HTMLResponse(homework_form(color, month, quarter, str(e)), 400)

    return app
