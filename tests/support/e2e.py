"""What the end-to-end tests share: the components' settings, polling, and the row-count oracle."""

from __future__ import annotations

import csv
import gzip
import time
from pathlib import Path

# The components' own settings: a dag-processor that parses the DAG files at its start and then
# not again for an hour (they do not change during a test; parsing them every 10 s cost it 5.8 s of
# CPU in 90 s of an idle stack, against 0.7 s), and scheduled DAGs that do not catch up on 31 months
# when unpaused (the backfills say which months).
COMPONENT_ENV = {
    "TAXI_CATCHUP": "false",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "3600",
    "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "3600",  # Airflow 2: the scheduler parses them
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
}


def registered_dags() -> set[str]:
    """The DAGs the dag-processor has registered (not stale) in the metadata database."""
    from airflow.models import DagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        return {d.dag_id for d in session.query(DagModel).filter(DagModel.is_stale.is_(False)).all()}


def wait_for(check, what: str, timeout: float = 600, every: float = 2.0, diagnose=None):
    """Poll check() until it returns something truthy; fail after timeout seconds (with diagnose())."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"{what}: not within {timeout:.0f} s" + (f"\n{diagnose()}" if diagnose else ""))


def expected_rows(files: Path, month: str, color: str) -> int:
    """The data rows of the served file (every one is loaded), counted independently of the bundle's code."""
    return served_counts(files, month, color)["rows"]


def served_counts(files: Path, month: str, color: str) -> dict[str, int]:
    """What the homework asks of a served month file, counted with the csv module: its data rows,
    those the course's cleaning keeps (passenger_count > 0 and trip_distance > 0) and their vendor
    ids, the pickup dates, and the file's uncompressed bytes."""
    path = files / color / f"{color}_tripdata_{month}.csv.gz"
    with gzip.open(path, "rb") as raw:
        uncompressed = len(raw.read())
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    clean = [r for r in rows if _positive(r["passenger_count"]) and _positive(r["trip_distance"])]
    pickup = next(name for name in rows[0] if name.endswith("pickup_datetime")) if rows else ""
    return {
        "rows": len(rows),
        "clean": len(clean),
        "clean_vendors": {int(r["VendorID"]) for r in clean if r["VendorID"]},
        "pickup_dates": {r[pickup][:10] for r in rows},
        "uncompressed_bytes": uncompressed,
    }


def _positive(value: str) -> bool:
    return bool(value) and float(value) > 0


def month_period(month: str) -> tuple[str, str, str]:
    """(logical date, data interval start, end) the UI must show for a run of month YYYY-MM."""
    from taxi_flows.core.months import month_start, next_month

    first = month_start(month)
    return (f"{first}", f"{first}", f"{next_month(first)}")
