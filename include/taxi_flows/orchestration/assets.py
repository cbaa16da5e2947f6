"""The Airflow Assets the bundle produces: one per trip type and output.

Assets are named, not addressed by a gs:// URI: the bucket is an Airflow Variable, read at run
time, and DAG files must not read Variables at parse time. On Airflow 2 they are Datasets whose
URI is that name. Each event's ``extra`` carries what a
consumer needs: colour, month (or day), the object's gs:// URI and its row count.
"""

from __future__ import annotations

from typing import Any

from taxi_flows.orchestration.compat import asset

GROUP = "taxi-flows"


def monthly_parquet(color: str) -> Any:
    """<color>/<color>_tripdata_<YYYY>-<MM>.parquet: one event per month written."""
    return asset(f"taxi_flows.{color}_tripdata.monthly_parquet", GROUP)


def any_monthly_parquet() -> Any:
    """An event of any trip type's monthly Parquet file (what triggers taxi_gcs_to_bigquery)."""
    from functools import reduce

    from taxi_flows.core.schema import COLORS

    return reduce(lambda a, b: a | b, (monthly_parquet(color) for color in COLORS))


def pickup_date_dataset(color: str) -> Any:
    """<color>_tripdata/<p>_pickup_date=<date>/<YYYY-MM>.parquet: one event per month written."""
    return asset(f"taxi_flows.{color}_tripdata.by_pickup_date", GROUP)


def daily_trips(color: str) -> Any:
    """<color>/<YYYY>/<MM>/<DD>/daily-trips.parquet: one event per day written."""
    return asset(f"taxi_flows.{color}_tripdata.daily_trips", GROUP)


def postgres_trips() -> Any:
    """ny_taxi.<color>_tripdata in PostgreSQL: one event per colour and month loaded."""
    return asset("taxi_flows.tripdata.postgres", GROUP)


def bigquery_trips() -> Any:
    """<dataset>.<color>_tripdata in BigQuery: one event per colour and month loaded (and reconciled)."""
    return asset("taxi_flows.tripdata.bigquery", GROUP)
