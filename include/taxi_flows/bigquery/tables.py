"""The BigQuery tables: names, schema fields and the final tables' resource.

Final tables ``<dataset>.<color>_tripdata`` are partitioned by day on the pickup date column
(``tpep_pickup_date`` / ``lpep_pickup_date`` / ``pickup_date``) and clustered on what the workflows and typical
queries filter by (``source_month``, then the pickup zone); their columns carry the descriptions
of taxi_flows.core.schema; they hold every row of each file. The views
``<dataset>.<color>_tripdata_clean`` are the course's cleaning of the yellow and green ones (the
rows with passenger_count > 0 and trip_distance > 0, as the PostgreSQL views). A month is staged in
``_staging_<color>_tripdata_<YYYYMM>`` first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from taxi_flows.core.schema import ZONE_COLUMNS, Column, trip_schema

CLUSTER_BY = ("source_month", "pu_location_id")


def trips_table(color: str) -> str:
    return trip_schema(color).table


def clean_view(color: str) -> str:
    return trip_schema(color).clean_view


def staging_table(color: str, month: dt.date) -> str:
    return f"_staging_{trip_schema(color).table}_{month:%Y%m}"


def schema_fields(columns: Iterable[Column]) -> list[dict]:
    """BigQuery schema fields (the JSON form the Google provider's operators take)."""
    return [
        {"name": c.name, "type": c.kind.bigquery, "mode": "NULLABLE", "description": c.description} for c in columns
    ]


def trip_schema_fields(color: str) -> list[dict]:
    return schema_fields(trip_schema(color).columns)


def zone_schema_fields() -> list[dict]:
    return schema_fields(ZONE_COLUMNS)


def trips_table_resource(color: str) -> dict:
    """The REST resource of a final table, as BigQueryCreateTableOperator takes it (the operator adds
    the table reference: the connection's project, the dataset, the table id)."""
    return {
        "description": f"{trip_schema(color).description}, replaced by source month (taxi-flows).",
        "schema": {"fields": trip_schema_fields(color)},
        "timePartitioning": {"type": "DAY", "field": trip_schema(color).pickup_date},
        "clustering": {"fields": list(CLUSTER_BY)},
    }


def _string_literal(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def add_columns_sql(color: str, dataset: str, names: Iterable[str] | None = None) -> str:
    """DDL that adds the columns the schema gained since a final table was created (airport_fee,
    cbd_congestion_fee, ...), with their descriptions: those of `names`, or every column of the
    schema the table lacks (IF NOT EXISTS). A query job runs it."""
    wanted = None if names is None else set(names)
    adds = ",\n".join(
        f"ADD COLUMN IF NOT EXISTS {c.name} {c.kind.bigquery} OPTIONS(description={_string_literal(c.description)})"
        for c in trip_schema(color).columns
        if wanted is None or c.name in wanted
    )
    return f"ALTER TABLE `{dataset}.{trips_table(color)}`\n{adds}"


def clean_view_sql(color: str, dataset: str) -> str:
    """DDL that creates or replaces a colour's clean view: replaced on every run, so a column the
    table gained shows in the view too (a BigQuery view keeps the columns of its creation)."""
    resource = clean_view_resource(color, dataset)
    return (
        f"CREATE OR REPLACE VIEW `{dataset}.{clean_view(color)}`\n"
        f"OPTIONS(description={_string_literal(resource['description'])})\nAS {resource['view']['query']}"
    )


def clean_view_resource(color: str, dataset: str) -> dict:
    """The REST resource of a colour's clean view (BigQueryCreateTableOperator adds its reference).
    A view's query names its tables with their dataset (BigQuery wants that; the project is the
    view's own); dataset may be a template, as the operator renders its table_resource."""
    condition = trip_schema(color).clean_condition
    query = f"SELECT * FROM `{dataset}.{trips_table(color)}` WHERE {condition}"
    return {
        "description": f"The course's cleaning of {trips_table(color)}: the rows with {condition} (taxi-flows).",
        "view": {"query": query, "useLegacySql": False},
    }
