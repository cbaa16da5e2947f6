"""The coverage page's HTML: Jinja2 templates in templates/ next to this module, autoescaped (every
value a view hands them is escaped unless a template marks it safe, and none does), rendered by
name with the view's values. base.html holds what every view shares: the style (light and dark,
from the browser's prefers-color-scheme; tables scroll sideways in a narrow window), and the one
script: a link to a run opens in Airflow's own window, not in the frame the page is shown in."""

from __future__ import annotations

from functools import cache
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


@cache
def _environment():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["figure"] = figure
    env.filters["run_href"] = run_href
    return env


def render(template: str, **values) -> str:
    """The page of a template (templates/<template>) with the view's values."""
    return _environment().get_template(template).render(**values)


def message(title: str, sentence: str) -> str:
    """A page that says one sentence (an error, a 403, a busy page)."""
    return render("message.html", title=title, sentence=sentence)


def run_href(run: tuple[str, str]) -> str:
    """The address of a (DAG id, run id) in Airflow's UI (the template escapes it)."""
    from urllib.parse import quote

    dag_id, run_id = run
    return f"/dags/{quote(dag_id, safe='')}/runs/{quote(run_id, safe='')}"


def figure(value) -> str:
    """A figure for a cell: counts with thousands separators, a dash for none, text as is (the
    template escapes it)."""
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)
