"""What the coverage page's views share: the document around a view's body, its style, links to
Airflow's UI, and how a figure is shown."""

from __future__ import annotations

from html import escape

STYLE = """body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 6px;text-align:right}th{background:#f3f3f3}
td.ok{background:#c8f0c8}td.bad{background:#f6b8b8;font-weight:bold}td.none{color:#999}
td.l,th.l{text-align:left}a{color:#0a58ca}.missing{color:#a00}p.bad{color:#a00}"""


def page(title: str, body: str) -> str:
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h2>{escape(title)}</h2>{body}</body></html>"
    )


def run_link(dag_id: str, run_id: str) -> str:
    """A link to the run in Airflow's UI. It opens in the page's frame: Airflow's sandbox of plugin
    pages allows neither top navigation nor pop-ups."""
    return f"<a href='/dags/{escape(dag_id)}/runs/{escape(run_id)}'>{escape(run_id)}</a>"


def figure(value) -> str:
    """A figure for a cell: counts with thousands separators, text escaped, a dash for none."""
    if value is None:
        return "—"
    return f"{value:,}" if isinstance(value, int) else escape(str(value))
