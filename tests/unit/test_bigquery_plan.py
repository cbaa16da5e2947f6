"""Which months a taxi_gcs_to_bigquery run plans, where that needs no BigQuery."""

from __future__ import annotations

import datetime as dt

import pytest

from taxi_flows import tasks
from taxi_flows.compat import AirflowSkipException


def test_a_scheduled_run_after_the_source_s_last_month_is_skipped_with_the_reason():
    with pytest.raises(AirflowSkipException, match=r"nothing to load: a scheduled run for 2026-10, after 2021-07"):
        tasks.bigquery_plan("b", "d", ["yellow"], dt.datetime(2026, 10, 1, tzinfo=dt.UTC), {}, run_type="scheduled")


def test_a_manual_run_of_any_month_is_planned():
    """A month asked for by hand (or by a backfill) is loaded, or fails loudly when its file is missing."""
    plan = tasks.bigquery_plan("b", "d", ["yellow"], dt.datetime(2026, 10, 1, tzinfo=dt.UTC), {}, run_type="manual")
    assert [(p["color"], p["month"], p["source_objects"]) for p in plan] == [
        ("yellow", "2026-10", ["yellow/yellow_tripdata_2026-10.parquet"])
    ]
