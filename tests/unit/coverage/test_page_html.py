"""The coverage page's templates: autoescaped, a legend, run links that open in Airflow's window,
every target of a month, a homework form that keeps what was asked, dark mode and narrow windows."""

from __future__ import annotations

import datetime as dt

from taxi_flows.coverage import page, store
from taxi_flows.coverage.month import targets

WHEN = dt.datetime(2026, 12, 7, 9, 30, tzinfo=dt.UTC)


def test_the_grid_has_a_legend_escapes_and_links_the_reconcile_run_for_airflow_s_window():
    counts = [
        store.Count("green", "2021-01", "postgres", 1200),
        store.Count("green", "2021-01", "gcs_dataset", 1200, 31),
        store.Count("green", "2021-02", "bigquery", 7),
    ]
    html = page.grid_html(counts, "manual__<b>x</b>", WHEN)
    assert 'data-cell="green 2021-01 postgres">1,200</td>' in html
    assert "1,200 (31 files)" in html
    assert '<td class="none" data-cell="green 2021-02 postgres">—</td>' in html
    assert "the target does not have the month" in html  # the legend says what "—" is
    assert "manual__&lt;b&gt;x&lt;/b&gt;" in html
    assert "<b>x</b>" not in html
    assert 'data-airflow href="/dags/taxi_reconcile/runs/manual__%3Cb%3Ex%3C%2Fb%3E"' in html
    assert "prefers-color-scheme:dark" in html
    assert "overflow-x:auto" in html  # a wide grid scrolls in an 800 px window, the page does not
    assert "window.parent.history.pushState" in html


def test_a_month_lists_every_target_with_its_last_load():
    found = {
        "gcs_monthly": store.Count("green", "2021-05", "gcs_monthly", 10, load={"bytes": 2048, "at": WHEN.isoformat()}),
        "bigquery": store.Count(
            "green",
            "2021-05",
            "bigquery",
            10,
            load={"at": WHEN.isoformat(), "dag_id": "taxi_gcs_to_bigquery", "run_id": "r1", "source_url": "gs://b/o"},
        ),
    }
    lines = {t["target"]: t for t in targets(found, None)}
    assert list(lines) == list(store.TARGETS)
    assert lines["postgres"]["rows"] is None
    assert (lines["gcs_monthly"]["rows"], lines["gcs_monthly"]["bytes"]) == (10, 2048)
    assert lines["bigquery"]["run"] == ("taxi_gcs_to_bigquery", "r1")
    assert lines["bigquery"]["at"] == "2026-12-07 09:30"
    assert lines["bigquery"]["url"] == "gs://b/o"


def test_a_bad_quarter_keeps_the_form_and_the_values_escaped():
    html = page.homework_form("green", None, "<2020-Q5>", "'<2020-Q5>' is not a quarter: ask for one like 2020-Q4.")
    assert "<form" in html
    assert 'value="&lt;2020-Q5&gt;"' in html
    assert "is not a quarter: ask for one like 2020-Q4." in html
    assert "<2020-Q5>" not in html
    assert "['" not in html  # no Python list printed
