"""The single source of truth for the taxi data: columns, types and descriptions of each colour.

Everything else is derived from the tables below: the Arrow types used to parse the source CSV
and the Arrow schema of the rows we write here; the PostgreSQL DDL (taxi_flows.postgres.tables) and
the BigQuery schema (taxi_flows.bigquery.tables), with their column descriptions, from the same
columns. Source names are the TLC's (``VendorID``); target names are the course's
snake_case (``vendor_id``). Every target also carries two derived columns: the course's pickup
date column (``tpep_pickup_date`` / ``lpep_pickup_date``) and ``source_month``, the month of the
file a row came from, by which re-runs replace rows.

Times are the TLC's: New York local wall-clock time with no time zone, kept naive everywhere
(``timestamp without time zone`` in PostgreSQL, Arrow ``timestamp[us]`` with no tz).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyarrow is imported inside the functions that need it: DAG files stay light
    import pyarrow as pa

COLORS = ("yellow", "green")

# The course's cleaning (the 2024 homework): the rows it keeps, a blank value not > 0. The targets
# hold every row; the views <color>_tripdata_clean, in PostgreSQL and BigQuery, apply it.
CLEAN_CONDITION = "passenger_count > 0 AND trip_distance > 0"


class Kind(enum.Enum):
    """A column's logical type, and what it is in each system."""

    #        arrow        postgres              bigquery
    INT = ("int64", "bigint", "INT64")
    FLOAT = ("float64", "double precision", "FLOAT64")
    STRING = ("string", "text", "STRING")
    TIMESTAMP = ("timestamp[us]", "timestamp without time zone", "DATETIME")
    DATE = ("date32", "date", "DATE")

    def __init__(self, arrow: str, postgres: str, bigquery: str):
        self.arrow_name = arrow
        self.postgres = postgres
        self.bigquery = bigquery

    def arrow(self) -> pa.DataType:
        import pyarrow as pa

        return {
            "int64": pa.int64(),
            "float64": pa.float64(),
            "string": pa.string(),
            "timestamp[us]": pa.timestamp("us"),
            "date32": pa.date32(),
        }[self.arrow_name]


def snake_case(name: str) -> str:
    """The course's renaming: VendorID -> vendor_id, PULocationID -> pu_location_id."""
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return name.lower()


@dataclass(frozen=True)
class Column:
    source: str | None  # the name in the source CSV; None for derived columns
    kind: Kind
    description: str
    derived_name: str | None = None

    @property
    def name(self) -> str:
        """The target name (snake_case)."""
        return self.derived_name or snake_case(self.source or "")


_ZONE = "TLC Taxi Zone (see taxi_zone_lookup.location_id)"
_USD = "in US dollars"


def _trip_columns(p: str) -> dict[str, Column]:
    """The columns both colours share; p is the datetime prefix (tpep for yellow, lpep for green)."""
    cols = [
        Column("VendorID", Kind.INT, "Provider of the record: 1 = Creative Mobile Technologies, 2 = VeriFone."),
        Column(f"{p}_pickup_datetime", Kind.TIMESTAMP, "When the meter was engaged (New York local time)."),
        Column(f"{p}_dropoff_datetime", Kind.TIMESTAMP, "When the meter was disengaged (New York local time)."),
        Column("passenger_count", Kind.INT, "Number of passengers, as entered by the driver."),
        Column("trip_distance", Kind.FLOAT, "Trip distance in miles reported by the taximeter."),
        Column(
            "RatecodeID",
            Kind.INT,
            "Final rate code: 1 = standard, 2 = JFK, 3 = Newark, 4 = Nassau/Westchester, "
            "5 = negotiated, 6 = group ride.",
        ),
        Column(
            "store_and_fwd_flag",
            Kind.STRING,
            "Y = the record was held in the vehicle before it was sent (store and forward), N = not.",
        ),
        Column("PULocationID", Kind.INT, f"Pickup zone: {_ZONE}."),
        Column("DOLocationID", Kind.INT, f"Drop-off zone: {_ZONE}."),
        Column(
            "payment_type",
            Kind.INT,
            "1 = credit card, 2 = cash, 3 = no charge, 4 = dispute, 5 = unknown, 6 = voided trip.",
        ),
        Column("fare_amount", Kind.FLOAT, f"Time-and-distance fare from the meter, {_USD}."),
        Column("extra", Kind.FLOAT, f"Miscellaneous extras and surcharges (rush hour, overnight), {_USD}."),
        Column("mta_tax", Kind.FLOAT, f"MTA tax triggered by the metered rate, {_USD}."),
        Column("tip_amount", Kind.FLOAT, f"Tip, {_USD}; card tips only, cash tips are not recorded."),
        Column("tolls_amount", Kind.FLOAT, f"All tolls paid in the trip, {_USD}."),
        Column("improvement_surcharge", Kind.FLOAT, f"Improvement surcharge at the flag drop, {_USD}."),
        Column("total_amount", Kind.FLOAT, f"Total charged to the passenger, cash tips excluded, {_USD}."),
        Column(
            "congestion_surcharge",
            Kind.FLOAT,
            f"New York State congestion surcharge, {_USD}; blank in records before February 2019.",
        ),
        Column("ehail_fee", Kind.FLOAT, f"E-hail fee, {_USD}; empty in every 2019-2021 file."),
        Column("trip_type", Kind.INT, "1 = street hail, 2 = dispatch."),
    ]
    return {c.source: c for c in cols}


def _words(text: str) -> list[str]:
    return text.split()


# The source columns of each colour, in the order of the files' header rows.
_SOURCE_ORDER = {
    "yellow": _words("""
        VendorID tpep_pickup_datetime tpep_dropoff_datetime passenger_count trip_distance RatecodeID
        store_and_fwd_flag PULocationID DOLocationID payment_type fare_amount extra mta_tax tip_amount
        tolls_amount improvement_surcharge total_amount congestion_surcharge
    """),
    "green": _words("""
        VendorID lpep_pickup_datetime lpep_dropoff_datetime store_and_fwd_flag RatecodeID PULocationID
        DOLocationID passenger_count trip_distance fare_amount extra mta_tax tip_amount tolls_amount
        ehail_fee improvement_surcharge total_amount payment_type trip_type congestion_surcharge
    """),
}

_PREFIX = {"yellow": "tpep", "green": "lpep"}

SOURCE_MONTH = Column(
    None,
    Kind.DATE,
    "First day of the month of the source file this row was loaded from; re-runs replace rows by it.",
    derived_name="source_month",
)


@dataclass(frozen=True)
class TripSchema:
    color: str
    source_columns: tuple[Column, ...]
    derived_columns: tuple[Column, ...]

    @property
    def prefix(self) -> str:
        return _PREFIX[self.color]

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column of the target tables, in order: the source's, then the derived ones."""
        return self.source_columns + self.derived_columns

    @property
    def source_names(self) -> list[str]:
        return [c.source for c in self.source_columns]

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def pickup_datetime(self) -> str:
        return f"{self.prefix}_pickup_datetime"

    @property
    def dropoff_datetime(self) -> str:
        return f"{self.prefix}_dropoff_datetime"

    @property
    def pickup_date(self) -> str:
        return f"{self.prefix}_pickup_date"

    @property
    def table(self) -> str:
        return f"{self.color}_tripdata"

    @property
    def clean_view(self) -> str:
        """The view of the course's cleaning of the table (CLEAN_CONDITION)."""
        return f"{self.table}_clean"

    def source_arrow_types(self) -> dict[str, pa.DataType]:
        """Arrow types by source column name, for parsing the CSV."""
        return {c.source: c.kind.arrow() for c in self.source_columns}

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        """The schema of the rows we write (target names, derived columns included)."""
        import pyarrow as pa

        fields = [pa.field(c.name, c.kind.arrow(), metadata={"description": c.description}) for c in self.columns]
        return pa.schema(fields)


@cache
def trip_schema(color: str) -> TripSchema:
    if color not in _SOURCE_ORDER:
        raise ValueError(f"unknown taxi colour {color!r}: expected one of {', '.join(COLORS)}")
    prefix = _PREFIX[color]
    shared = _trip_columns(prefix)
    pickup_date = Column(
        None,
        Kind.DATE,
        "Date part of the pickup time (New York local), as the course adds it.",
        derived_name=f"{prefix}_pickup_date",
    )
    return TripSchema(
        color=color,
        source_columns=tuple(shared[name] for name in _SOURCE_ORDER[color]),
        derived_columns=(pickup_date, SOURCE_MONTH),
    )


# The zone lookup (misc/taxi_zone_lookup.csv).
ZONE_TABLE = "taxi_zone_lookup"
ZONE_COLUMNS = (
    Column("LocationID", Kind.INT, "TLC Taxi Zone id, as in pu_location_id and do_location_id."),
    Column("Borough", Kind.STRING, "NYC borough of the zone (EWR for Newark airport, Unknown for 264/265)."),
    Column("Zone", Kind.STRING, "Name of the zone."),
    Column("service_zone", Kind.STRING, "Service zone: Yellow Zone, Boro Zone, Airports or EWR."),
)


def select_colors(colors: list[str]) -> list[str]:
    """The colours a run asked for (params.colors), in COLORS order; ValueError unless a non-empty
    subset of COLORS."""
    unknown = sorted(set(colors) - set(COLORS))
    if unknown or not colors:
        raise ValueError(f"params.colors must be a non-empty subset of {list(COLORS)}, got {colors}")
    return sorted(set(colors), key=COLORS.index)
