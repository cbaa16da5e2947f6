"""Every name Airflow resolves for the bundle, in one place: connections, Variables (each next to
the template that reads it at run time), the pool, the target schema, the TAXI_* switches, and the
range of months the source publishes.

Plain constants: DAG files import this module at parse time, and it imports nothing.
"""

from __future__ import annotations

import datetime as dt
import os


def _month_or_none(text: str, name: str) -> dt.date | None:
    """YYYY-MM as the month's first day; empty: None."""
    if not text.strip():
        return None
    year, _, month = text.strip().partition("-")
    try:
        return dt.date(int(year), int(month), 1)
    except ValueError:
        raise ValueError(f"{name}={text!r} is not a month: YYYY-MM, like 2021-07") from None


# Connections.
POSTGRES_CONN_ID = "taxi_postgres"  # the target database (its schema field is the database)
GCP_CONN_ID = "google_cloud_default"  # GCS and BigQuery; its project is the tables' project
ALERTS_CONN_ID = "taxi_alerts"  # optional: http (a webhook) or smtp; see taxi_flows.orchestration.alerts

# Variables, and the Jinja templates that read them when a task runs (never at parse time).
BASE_URL_VARIABLE = "taxi_source_base_url"
# DataTalksClub re-hosts the TLC's CSVs as GitHub release assets; GitHub answers with a redirect.
DEFAULT_BASE_URL = "https://github.com/DataTalksClub/nyc-tlc-data/releases/download"
# The macro (orchestration.dag_defaults: user_defined_macros) hands the URL's secret parts to Airflow's
# masker as the template renders, so they are masked in the rendered fields and the logs alike.
MASK_MACRO = "hide_secrets_of"
BASE_URL_TEMPLATE = "{{ " + MASK_MACRO + "(var.value.get('" + BASE_URL_VARIABLE + "', '" + DEFAULT_BASE_URL + "')) }}"

# The TLC's own Parquet files (every month of every trip type; the mirror has 2019-2021 only).
TLC_BASE_URL_VARIABLE = "taxi_tlc_base_url"
DEFAULT_TLC_BASE_URL = "https://d37ci6vzurychx.cloudfront.net/trip-data"
TLC_BASE_URL_TEMPLATE = (
    "{{ " + MASK_MACRO + "(var.value.get('" + TLC_BASE_URL_VARIABLE + "', '" + DEFAULT_TLC_BASE_URL + "')) }}"
)

BUCKET_VARIABLE = "taxi_gcs_bucket"
BUCKET_TEMPLATE = "{{ var.value." + BUCKET_VARIABLE + " }}"

DATASET_VARIABLE = "taxi_bq_dataset"
DATASET_TEMPLATE = "{{ var.value." + DATASET_VARIABLE + " }}"

# The PostgreSQL schema of the target tables (ny_taxi.<color>_tripdata, ny_taxi.taxi_zone_lookup).
POSTGRES_SCHEMA = "ny_taxi"

# Every load into taxi_postgres takes a slot of this pool: one connection and about one server core
# each. 2 fits the local stack's 2-core machine; raise it for a larger database (see README).
POSTGRES_POOL = "taxi_postgres"
POSTGRES_POOL_SLOTS = 2
# A month load keeps about one core busy (parsing, encoding) while the database or the uploads keep
# another: at most this many of one DAG's month tasks at a time, across all its runs and backfills.
HEAVY_TASKS_PER_DAG = 2

# Environment switches, read when the DAG files are parsed.
# TAXI_CATCHUP: catchup of the scheduled DAGs. true (the default) loads every month since 2019-01
# when a DAG is unpaused; false unpauses without that (backfill the months you want instead).
CATCHUP = os.getenv("TAXI_CATCHUP", "true").strip().lower() not in ("false", "0", "no")
# TAXI_BQ_LOCATION: the BigQuery location of the dataset and the jobs.
BQ_LOCATION = os.getenv("TAXI_BQ_LOCATION", "US")

# TAXI_RETRY_DELAY_SECONDS: a failed task's first retry waits this long (then twice as long, and so
# on, up to 15 minutes): a lost worker, a source or service down for a moment.
RETRY_DELAY_SECONDS = int(os.getenv("TAXI_RETRY_DELAY_SECONDS", "60"))

# The TLC publishes a month about two months after it ends (until then its URL answers 403). A run
# of a month not yet published waits (a sensor in reschedule mode: no worker slot held), checking
# every TAXI_PUBLICATION_POKE_SECONDS, until TAXI_PUBLICATION_WAIT_DAYS after the month ended, then fails.
PUBLICATION_WAIT_DAYS = int(os.getenv("TAXI_PUBLICATION_WAIT_DAYS", "120"))
PUBLICATION_POKE_SECONDS = int(os.getenv("TAXI_PUBLICATION_POKE_SECONDS", str(6 * 3600)))

# A load of a month waits for another load of the same month (PostgreSQL, GCS) at most
# TAXI_LOCK_WAIT_SECONDS, logging who holds it every 30 s, then fails naming it. A GCS month's lock
# object that a dead load left is taken over once it is TAXI_GCS_LOCK_STALE_SECONDS old (by the
# same task's retry at once). PostgreSQL releases a dead load's lock with its connection.
LOCK_WAIT_SECONDS = int(os.getenv("TAXI_LOCK_WAIT_SECONDS", "1800"))
LOCK_STALE_SECONDS = int(os.getenv("TAXI_GCS_LOCK_STALE_SECONDS", "10800"))

# The DAGs' start_date (orchestration.dag_defaults.EARLIEST says why so early): a timetable
# restriction from it is catch-up's, a later one a backfill's.
DAG_START_DATE = dt.date(1970, 1, 1)
# The months DataTalksClub re-hosts (yellow, green, fhv; the course's months).
FIRST_SOURCE_MONTH = dt.date(2019, 1, 1)
LAST_SOURCE_MONTH = dt.date(2021, 7, 1)
# The monthly DAGs' schedule: one run per month from FIRST_SOURCE_MONTH up to the present (a month's
# run starts once the month has ended, and waits for its publication). TAXI_SCHEDULE_LAST_MONTH
# (YYYY-MM) ends it at that month instead; the local stack sets it to the mirror's last month.
# Months outside the schedule run by hand or by backfill alike.
SCHEDULE_LAST_MONTH = _month_or_none(os.getenv("TAXI_SCHEDULE_LAST_MONTH", ""), "TAXI_SCHEDULE_LAST_MONTH")

# The coverage page (Airflow 3.1+, coverage.reader) reads through one connection of its own, one
# request at a time: at most TAXI_PAGE_QUEUE requests wait for it, each at most
# TAXI_PAGE_WAIT_SECONDS (the others get 503), and none of its queries runs over
# TAXI_PAGE_STATEMENT_SECONDS.
PAGE_QUEUE = int(os.getenv("TAXI_PAGE_QUEUE", "16"))
PAGE_WAIT_SECONDS = float(os.getenv("TAXI_PAGE_WAIT_SECONDS", "20"))
PAGE_STATEMENT_SECONDS = float(os.getenv("TAXI_PAGE_STATEMENT_SECONDS", "10"))
