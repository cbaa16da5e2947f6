"""The single source of truth for the trip data: the columns, types and descriptions of each trip
type's tables.

Each trip type (yellow, green, fhv, fhvhv) has one table schema: the TLC's current data dictionary
with the course's snake_case names (``VendorID`` -> ``vendor_id``), then two derived columns: the
pickup date (``tpep_pickup_date`` / ``lpep_pickup_date`` / ``pickup_date``) and ``source_month``,
the month of the file a row came from, by which re-runs replace rows. The PostgreSQL DDL
(taxi_flows.postgres.tables), the BigQuery schema (taxi_flows.bigquery.tables) and the Arrow
schema of the rows we write all derive from the tables below (the columns themselves, with their
descriptions, are the TLC's data dictionaries: taxi_flows.core.dictionary). How each source file's columns map
onto them, period by period, is taxi_flows.core.layouts.

Times are the TLC's: New York local wall-clock time with no time zone, kept naive everywhere
(``timestamp without time zone`` in PostgreSQL, Arrow ``timestamp[us]`` with no tz, BigQuery
DATETIME).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from typing import TYPE_CHECKING

from taxi_flows.core.dictionary import FHV, FHVHV, TAXI_ORDER, Column, Kind, col, taxi_columns
from taxi_flows.core.dictionary import snake_case as snake_case  # the course's renaming, used by the pages

if TYPE_CHECKING:  # pyarrow is imported inside the functions that need it: DAG files stay light
    import pyarrow as pa

# The trip types (params.colors): the two taxi colours, For-Hire Vehicles and High Volume FHVs.
COLORS = ("yellow", "green", "fhv", "fhvhv")
DEFAULT_COLORS = ("yellow", "green")  # what a run handles unless params.colors says otherwise

# The course's cleaning (the 2024 homework), for the taxi colours: the rows it keeps, a blank value
# not > 0. The targets hold every row; the views <color>_tripdata_clean, in PostgreSQL and BigQuery,
# apply it. The course cleans no for-hire trips: fhv and fhvhv have no such view.
CLEAN_CONDITION = "passenger_count > 0 AND trip_distance > 0"


SOURCE_MONTH = Column(
    None,
    Kind.DATE,
    "First day of the month of the source file this row was loaded from; re-runs replace rows by it.",
    derived_name="source_month",
)

_PREFIX = {"yellow": "tpep_", "green": "lpep_", "fhv": "", "fhvhv": ""}
_DESCRIPTION = {
    "yellow": "NYC TLC yellow taxi trips",
    "green": "NYC TLC green taxi trips",
    "fhv": "NYC TLC For-Hire Vehicle trips",
    "fhvhv": "NYC TLC High Volume For-Hire Vehicle trips (Uber, Lyft, Via, Juno)",
}


@dataclass(frozen=True)
class TripSchema:
    color: str  # the trip type (params.colors calls them colours)
    trip_columns: tuple[Column, ...]  # the columns a source file fills
    derived_columns: tuple[Column, ...]
    clean_condition: str | None  # the course's cleaning (the clean view), if the course cleans the type

    @property
    def columns(self) -> tuple[Column, ...]:
        """Every column of the target tables, in order: the trips', then the derived ones."""
        return self.trip_columns + self.derived_columns

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def description(self) -> str:
        return _DESCRIPTION[self.color]

    @property
    def pickup_datetime(self) -> str:
        return f"{_PREFIX[self.color]}pickup_datetime"

    @property
    def dropoff_datetime(self) -> str:
        return f"{_PREFIX[self.color]}dropoff_datetime"

    @property
    def pickup_date(self) -> str:
        return f"{_PREFIX[self.color]}pickup_date"

    @property
    def table(self) -> str:
        return f"{self.color}_tripdata"

    @property
    def clean_view(self) -> str | None:
        """The view of the course's cleaning of the table; None for a type the course does not clean."""
        return f"{self.table}_clean" if self.clean_condition else None

    def kind(self, name: str) -> Kind:
        return next(c.kind for c in self.columns if c.name == name)

    @cached_property
    def arrow_schema(self) -> pa.Schema:
        """The schema of the rows we write (target names, derived columns included)."""
        import pyarrow as pa

        fields = [pa.field(c.name, c.kind.arrow(), metadata={"description": c.description}) for c in self.columns]
        return pa.schema(fields)


@cache
def trip_schema(color: str) -> TripSchema:
    if color not in COLORS:
        raise ValueError(f"unknown trip type {color!r}: expected one of {', '.join(COLORS)}")
    if color in TAXI_ORDER:
        by_name = taxi_columns(_PREFIX[color].rstrip("_"))
        trips = [by_name[name] for name in TAXI_ORDER[color].split()]
    else:
        trips = {"fhv": FHV, "fhvhv": FHVHV}[color]
    pickup_date = col(
        f"{_PREFIX[color]}pickup_date",
        Kind.DATE,
        "Date part of the pickup time (New York local), as the course adds it.",
    )
    return TripSchema(
        color=color,
        trip_columns=tuple(trips),
        derived_columns=(pickup_date, SOURCE_MONTH),
        clean_condition=CLEAN_CONDITION if color in ("yellow", "green") else None,
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
    """The trip types a run asked for (params.colors), in COLORS order; ValueError unless a
    non-empty subset of COLORS."""
    unknown = sorted(set(colors) - set(COLORS))
    if unknown or not colors:
        raise ValueError(f"params.colors must be a non-empty subset of {list(COLORS)}, got {colors}")
    return sorted(set(colors), key=COLORS.index)
