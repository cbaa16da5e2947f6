"""The Airflow Assets the bundle produces: one per colour and output.

Assets are named, not addressed by a gs:// URI: the bucket is an Airflow Variable, read at run
time, and DAG files must not read Variables at parse time. Each event's ``extra`` carries what a
consumer needs: colour, month (or day), the object's gs:// URI and its row count.
"""

from __future__ import annotations

from airflow.sdk import Asset


def monthly_parquet(color: str) -> Asset:
    """<color>/<color>_tripdata_<YYYY>-<MM>.parquet: one event per month written."""
    return Asset(name=f"taxi_flows.{color}_tripdata.monthly_parquet", group="taxi-flows")


def pickup_date_dataset(color: str) -> Asset:
    """<color>_tripdata/<p>_pickup_date=<date>/<YYYY-MM>.parquet: one event per month written."""
    return Asset(name=f"taxi_flows.{color}_tripdata.by_pickup_date", group="taxi-flows")


def daily_trips(color: str) -> Asset:
    """<color>/<YYYY>/<MM>/<DD>/daily-trips.parquet: one event per day written."""
    return Asset(name=f"taxi_flows.{color}_tripdata.daily_trips", group="taxi-flows")
