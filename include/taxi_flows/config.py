"""Names and defaults the DAGs share: constants, and nothing heavy to import at parse time."""

from __future__ import annotations

import datetime as dt

# Connections and pools.
POSTGRES_CONN_ID = "taxi_postgres"
GCP_CONN_ID = "google_cloud_default"
POSTGRES_SCHEMA = "ny_taxi"
# Every load into taxi_postgres takes a slot: one connection and about one server core each.
# 2 fits the local stack's 2-core machine; raise it for a larger database (see README).
POSTGRES_POOL = "taxi_postgres"
POSTGRES_POOL_SLOTS = 2

# Task defaults every DAG of the bundle uses (the policy tests check them).
DEFAULT_ARGS = {
    "owner": "taxi-flows",
    "retries": 3,
    "retry_delay": dt.timedelta(minutes=1),
    "retry_exponential_backoff": True,
    "max_retry_delay": dt.timedelta(minutes=15),
    "execution_timeout": dt.timedelta(minutes=30),
}

# Tags the DAGs may carry (the policy tests hold them to this set).
APPROVED_TAGS = frozenset({"zoomcamp", "nyc-taxi", "postgres", "gcs", "bigquery", "monitoring"})


def colors_param():
    """The `colors` param every DAG takes: which taxi colours a run handles."""
    from airflow.sdk import Param

    from taxi_flows.schema import COLORS

    return Param(
        list(COLORS),
        type="array",
        items={"type": "string", "enum": list(COLORS)},
        minItems=1,
        description="Taxi colours to handle.",
    )
