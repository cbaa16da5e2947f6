"""How each source file's columns map onto the trip type's table (taxi_flows.core.schema): one
table of layouts, by trip type, source and period, that a newcomer can read and extend.

A layout lists a file's columns in the file's order, each with the target column it fills; a
target column no column of the layout fills is NULL in that period's rows. A file whose columns
are not its layout's (a column the bundle does not know, one missing) fails its load naming the
column and this table: a period the TLC changes is a new layout here, never a silent drop.

Sources: the DataTalksClub mirror (``datatalksclub``: the course's CSVs, gzipped, 2019-2021) and the
TLC's own Parquet files (``tlc``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from taxi_flows.core.schema import COLORS, snake_case, trip_schema

MIRROR = "datatalksclub"
TLC = "tlc"
SOURCES = (MIRROR, TLC)


@dataclass(frozen=True)
class Layout:
    color: str
    source: str
    first: dt.date  # the first month in this layout
    last: dt.date | None  # the last (None: the current layout)
    columns: tuple[tuple[str, str], ...]  # (name in the file, target column), in the file's order
    dropped: tuple[str, ...] = ()  # columns of some files that are not trip data: left out, and logged
    codes: tuple[tuple[str, tuple[tuple[str, object], ...]], ...] = ()  # file column -> (text, table value)s

    def code_table(self, name: str) -> dict[str, object] | None:
        """The codes of a column whose file values are names (2009's "CMT", "Cash"): text -> table value."""
        return dict(dict(self.codes)[name]) if name in dict(self.codes) else None

    @property
    def source_names(self) -> list[str]:
        return [name for name, _ in self.columns]

    @property
    def targets(self) -> dict[str, str]:
        """Target column by the file's column name."""
        return dict(self.columns)

    def covers(self, month: dt.date) -> bool:
        return self.first <= month and (self.last is None or month <= self.last)

    @property
    def period(self) -> str:
        return f"{self.first:%Y-%m} … {self.last:%Y-%m}" if self.last else f"{self.first:%Y-%m} on"


def _layout(
    color: str,
    source: str,
    first: str,
    last: str | None,
    names: str,
    dropped: tuple[str, ...] = (),
    codes: dict[str, dict[str, object]] | None = None,
    **renames: str,
) -> Layout:
    """A layout from the file's column names: each fills its snake_case target unless renamed."""
    columns = tuple((name, renames.get(name, snake_case(name))) for name in names.split())
    month = dt.date.fromisoformat(f"{first}-01")
    last_month = dt.date.fromisoformat(f"{last}-01") if last else None
    coded = tuple((name, tuple(table.items())) for name, table in (codes or {}).items())
    return Layout(color, source, month, last_month, columns, dropped, coded)


# 2009 and 2010 name what later files number. The codes are the data dictionary's (payment_type 1
# credit card, 2 cash, 3 no charge, 4 dispute, 5 unknown); DDS (Digital Dispatch Systems), a vendor of
# those years only, has no code there: it is 3, which no later file uses. Text is matched trimmed,
# in capitals; a value not in its table fails the load naming it.
VENDOR_NAMES = {"CMT": 1, "VTS": 2, "DDS": 3}
PAYMENT_NAMES = {
    **dict.fromkeys(("CRD", "CRE", "CREDIT"), 1),
    **dict.fromkeys(("CSH", "CAS", "CASH"), 2),
    **dict.fromkeys(("NOC", "NO CHARGE", "NO"), 3),
    **dict.fromkeys(("DIS", "DISPUTE"), 4),
    "UNK": 5,
}
FLAG_NUMBERS = {"0": "N", "1": "Y", "N": "N", "Y": "Y"}  # store_and_forward: 0/1 in 2009-2010
_2009 = """vendor_name Trip_Pickup_DateTime Trip_Dropoff_DateTime Passenger_Count Trip_Distance Start_Lon Start_Lat
    Rate_Code store_and_forward End_Lon End_Lat Payment_Type Fare_Amt surcharge mta_tax Tip_Amt Tolls_Amt Total_Amt"""
_2009_NAMES = {
    "vendor_name": "vendor_id",
    "Trip_Pickup_DateTime": "tpep_pickup_datetime",
    "Trip_Dropoff_DateTime": "tpep_dropoff_datetime",
    "Start_Lon": "pickup_longitude",
    "Start_Lat": "pickup_latitude",
    "Rate_Code": "ratecode_id",
    "store_and_forward": "store_and_fwd_flag",
    "End_Lon": "dropoff_longitude",
    "End_Lat": "dropoff_latitude",
    "Fare_Amt": "fare_amount",
    "surcharge": "extra",
    "Tip_Amt": "tip_amount",
    "Tolls_Amt": "tolls_amount",
    "Total_Amt": "total_amount",
}
_2009_CODES = {"vendor_name": VENDOR_NAMES, "Payment_Type": PAYMENT_NAMES, "store_and_forward": FLAG_NUMBERS}
_2010 = """vendor_id pickup_datetime dropoff_datetime passenger_count trip_distance pickup_longitude pickup_latitude
    rate_code store_and_fwd_flag dropoff_longitude dropoff_latitude payment_type fare_amount surcharge mta_tax
    tip_amount tolls_amount total_amount"""
_2010_NAMES = {
    "pickup_datetime": "tpep_pickup_datetime",
    "dropoff_datetime": "tpep_dropoff_datetime",
    "rate_code": "ratecode_id",
    "surcharge": "extra",
}
_2010_CODES = {"vendor_id": VENDOR_NAMES, "payment_type": PAYMENT_NAMES, "store_and_fwd_flag": FLAG_NUMBERS}


_YELLOW = """VendorID tpep_pickup_datetime tpep_dropoff_datetime passenger_count trip_distance RatecodeID
    store_and_fwd_flag PULocationID DOLocationID payment_type fare_amount extra mta_tax tip_amount tolls_amount
    improvement_surcharge total_amount congestion_surcharge"""
_GREEN = """VendorID lpep_pickup_datetime lpep_dropoff_datetime store_and_fwd_flag RatecodeID PULocationID
    DOLocationID passenger_count trip_distance fare_amount extra mta_tax tip_amount tolls_amount ehail_fee
    improvement_surcharge total_amount payment_type trip_type congestion_surcharge"""
_FHV = "dispatching_base_num pickup_datetime dropOff_datetime PUlocationID DOlocationID SR_Flag Affiliated_base_number"
_FHVHV = """hvfhs_license_num dispatching_base_num originating_base_num request_datetime on_scene_datetime
    pickup_datetime dropoff_datetime PULocationID DOLocationID trip_miles trip_time base_passenger_fare tolls bcf
    sales_tax congestion_surcharge airport_fee tips driver_pay shared_request_flag shared_match_flag
    access_a_ride_flag wav_request_flag wav_match_flag"""
_FHV_IDS = {"dropOff_datetime": "dropoff_datetime", "PUlocationID": "pu_location_id", "DOlocationID": "do_location_id"}

LAYOUTS = (
    # The DataTalksClub mirror: the TLC's CSVs as the course downloads them (csv.gz), 2019-2021.
    _layout("yellow", MIRROR, "2019-01", "2021-07", _YELLOW),
    _layout("green", MIRROR, "2019-01", "2021-07", _GREEN),
    _layout("fhv", MIRROR, "2019-01", "2021-07", _FHV, **_FHV_IDS),
    # The mirror's High Volume files are the TLC's first CSV layout (7 columns; the later columns NULL).
    _layout(
        "fhvhv",
        MIRROR,
        "2019-02",
        "2021-07",
        """
        hvfhs_license_num dispatching_base_num pickup_datetime dropoff_datetime PULocationID DOLocationID
        SR_Flag""",
    ),
    # The TLC's Parquet files (<type>_tripdata_YYYY-MM.parquet). Physical types drift within a layout
    # (double counts and codes until 2023-01, int32 ids from 2023-02, columns typed null for a month):
    # taxi_flows.core.parquet_reader.fit takes each to its column's type, or fails naming the value.
    # 2009 and 2010: coordinates, not zones (the location ids are NULL); names for codes; 2009's
    # times may be text; pandas' index as a column in some 2010 files (left out).
    _layout("yellow", TLC, "2009-01", "2009-12", _2009, codes=_2009_CODES, **_2009_NAMES),
    _layout("yellow", TLC, "2010-01", "2010-12", _2010, ("__index_level_0__",), _2010_CODES, **_2010_NAMES),
    _layout("yellow", TLC, "2011-01", "2023-01", _YELLOW + " airport_fee"),
    _layout("yellow", TLC, "2023-02", "2024-12", _YELLOW + " Airport_fee"),
    _layout("yellow", TLC, "2025-01", None, _YELLOW + " Airport_fee cbd_congestion_fee"),
    _layout("green", TLC, "2014-01", "2024-12", _GREEN),
    _layout("green", TLC, "2025-01", None, _GREEN + " cbd_congestion_fee"),
    _layout("fhv", TLC, "2015-01", None, _FHV, **_FHV_IDS),
    _layout("fhvhv", TLC, "2019-02", "2024-12", _FHVHV),
    _layout("fhvhv", TLC, "2025-01", None, _FHVHV + " cbd_congestion_fee"),
)


def layouts(color: str, source: str) -> list[Layout]:
    return [lay for lay in LAYOUTS if lay.color == color and lay.source == source]


def months_of(color: str, source: str) -> tuple[dt.date, dt.date | None] | None:
    """The first and last month a source has of a trip type (last None: up to the latest published);
    None if it has none."""
    found = layouts(color, source)
    if not found:
        return None
    lasts = [lay.last for lay in found]
    return min(lay.first for lay in found), None if None in lasts else max(lasts)


def layout_of(color: str, source: str, month: dt.date) -> Layout:
    """The layout of a month's file; ValueError naming the source's months of the type."""
    for lay in layouts(color, source):
        if lay.covers(month):
            return lay
    span = months_of(color, source)
    has = f"{span[0]:%Y-%m} … {span[1]:%Y-%m}" if span and span[1] else f"from {span[0]:%Y-%m}" if span else "none"
    raise ValueError(f"{color} {month:%Y-%m} is not in the {source} source's {color} months ({has})")


def _check() -> None:
    """Every layout fills columns of its type's table, each once (run at import: a typo fails the tests)."""
    for lay in LAYOUTS:
        names = set(trip_schema(lay.color).names)
        targets = [target for _, target in lay.columns]
        unknown = sorted(set(targets) - names)
        if lay.color not in COLORS or unknown or len(set(targets)) != len(targets):
            raise ValueError(f"layout {lay.color} {lay.period}: unknown columns {unknown} or a column filled twice")


_check()
