"""The TLC's data dictionaries: each trip type's columns, with their types and descriptions, under
the course's snake_case names (``VendorID`` -> ``vendor_id``), and the kinds of column each system
stores. taxi_flows.core.schema builds the tables from them.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pyarrow is imported inside the functions that need it: DAG files stay light
    import pyarrow as pa


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
    source: str | None  # the name in a source file (the zone lookup); None for the trip tables' columns
    kind: Kind
    description: str
    derived_name: str | None = None

    @property
    def name(self) -> str:
        """The target name (snake_case)."""
        return self.derived_name or snake_case(self.source or "")


def col(name: str, kind: Kind, description: str) -> Column:
    """A column of a trip table, by its target name."""
    return Column(None, kind, description, derived_name=name)


_ZONE = "TLC Taxi Zone (see taxi_zone_lookup.location_id)"
_USD = "in US dollars"
_VENDORS = "1 = Creative Mobile Technologies, 2 = Curb (VeriFone), 6 = Myle, 7 = Helix; 3 = DDS (2009-2010)"
_RATES = "1 = standard, 2 = JFK, 3 = Newark, 4 = Nassau/Westchester, 5 = negotiated, 6 = group ride, 99 = unknown"
_PAYMENTS = "0 = flex fare, 1 = credit card, 2 = cash, 3 = no charge, 4 = dispute, 5 = unknown, 6 = voided trip"
_I, _F, _S, _T = Kind.INT, Kind.FLOAT, Kind.STRING, Kind.TIMESTAMP


def taxi_columns(p: str) -> dict[str, Column]:
    """The yellow and green columns by name; p is the datetime prefix (tpep for yellow, lpep for green)."""
    cols = [
        col("vendor_id", _I, f"Provider: {_VENDORS}."),
        col(f"{p}_pickup_datetime", _T, "When the meter was engaged (New York local time)."),
        col(f"{p}_dropoff_datetime", _T, "When the meter was disengaged (New York local time)."),
        col("passenger_count", _I, "Number of passengers, as entered by the driver."),
        col("trip_distance", _F, "Trip distance in miles reported by the taximeter."),
        col(
            "ratecode_id",
            _I,
            "Final rate code: 1 = standard, 2 = JFK, 3 = Newark, 4 = Nassau/Westchester, "
            "5 = negotiated, 6 = group ride, 99 = unknown.",
        ),
        col("store_and_fwd_flag", _S, "Y = the record was held in the vehicle before it was sent, N = not."),
        col("pu_location_id", _I, f"Pickup zone: {_ZONE}."),
        col("do_location_id", _I, f"Drop-off zone: {_ZONE}."),
        col(
            "payment_type",
            _I,
            "0 = flex fare, 1 = credit card, 2 = cash, 3 = no charge, 4 = dispute, 5 = unknown, 6 = voided trip.",
        ),
        col("fare_amount", _F, f"Time-and-distance fare from the meter, {_USD}."),
        col("extra", _F, f"Miscellaneous extras and surcharges (rush hour, overnight), {_USD}."),
        col("mta_tax", _F, f"MTA tax triggered by the metered rate, {_USD}."),
        col("tip_amount", _F, f"Tip, {_USD}; card tips only, cash tips are not recorded."),
        col("tolls_amount", _F, f"All tolls paid in the trip, {_USD}."),
        col("improvement_surcharge", _F, f"Improvement surcharge at the flag drop, {_USD}."),
        col("total_amount", _F, f"Total charged to the passenger, cash tips excluded, {_USD}."),
        col("congestion_surcharge", _F, f"New York State congestion surcharge, {_USD}; blank before February 2019."),
        col("ehail_fee", _F, f"E-hail fee, {_USD}; empty in every 2019-2021 file."),
        col("airport_fee", _F, f"Fee for a pickup at LaGuardia or JFK airport, {_USD}; from 2021 (NULL before)."),
        col("cbd_congestion_fee", _F, f"MTA Congestion Relief Zone toll, from January 2025, {_USD}."),
        col("trip_type", _I, "1 = street hail, 2 = dispatch."),
        col("pickup_longitude", _F, "Longitude of the pickup (2009-2010 files, which have no zones)."),
        col("pickup_latitude", _F, "Latitude of the pickup (2009-2010 files)."),
        col("dropoff_longitude", _F, "Longitude of the drop-off (2009-2010 files)."),
        col("dropoff_latitude", _F, "Latitude of the drop-off (2009-2010 files)."),
    ]
    return {c.name: c for c in cols}


# The yellow and green tables' columns, in the order of the mirror's files.
TAXI_ORDER = {
    "yellow": """vendor_id tpep_pickup_datetime tpep_dropoff_datetime passenger_count trip_distance ratecode_id
        store_and_fwd_flag pu_location_id do_location_id payment_type fare_amount extra mta_tax tip_amount
        tolls_amount improvement_surcharge total_amount congestion_surcharge airport_fee cbd_congestion_fee
        pickup_longitude pickup_latitude dropoff_longitude dropoff_latitude""",
    "green": """vendor_id lpep_pickup_datetime lpep_dropoff_datetime store_and_fwd_flag ratecode_id pu_location_id
        do_location_id passenger_count trip_distance fare_amount extra mta_tax tip_amount tolls_amount ehail_fee
        improvement_surcharge total_amount payment_type trip_type congestion_surcharge cbd_congestion_fee""",
}


FHV = [
    col("dispatching_base_num", _S, "TLC base license number of the base that dispatched the trip."),
    col("pickup_datetime", _T, "When the trip started (New York local time)."),
    col("dropoff_datetime", _T, "When the trip ended (New York local time)."),
    col("pu_location_id", _I, f"Pickup zone: {_ZONE}."),
    col("do_location_id", _I, f"Drop-off zone: {_ZONE}."),
    col("sr_flag", _I, "1 = a shared ride (booked as one); blank otherwise."),
    col("affiliated_base_number", _S, "Base number of the base the vehicle is affiliated with."),
]

FHVHV = [
    col(
        "hvfhs_license_num",
        _S,
        "TLC license of the High Volume service: HV0002 Juno, HV0003 Uber, HV0004 Via, HV0005 Lyft.",
    ),
    col("dispatching_base_num", _S, "TLC base license number of the base that dispatched the trip."),
    col("originating_base_num", _S, "Base number of the base that received the original request."),
    col("request_datetime", _T, "When the passenger requested the ride (New York local time)."),
    col("on_scene_datetime", _T, "When the driver arrived at the pickup (accessible vehicles only)."),
    col("pickup_datetime", _T, "When the trip started (New York local time)."),
    col("dropoff_datetime", _T, "When the trip ended (New York local time)."),
    col("pu_location_id", _I, f"Pickup zone: {_ZONE}."),
    col("do_location_id", _I, f"Drop-off zone: {_ZONE}."),
    col("trip_miles", _F, "Miles of the passenger's trip."),
    col("trip_time", _I, "Seconds of the passenger's trip."),
    col("base_passenger_fare", _F, f"Base fare before tolls, tips, taxes and fees, {_USD}."),
    col("tolls", _F, f"Tolls paid in the trip, {_USD}."),
    col("bcf", _F, f"Black Car Fund, {_USD}."),
    col("sales_tax", _F, f"New York State sales tax, {_USD}."),
    col("congestion_surcharge", _F, f"New York State congestion surcharge, {_USD}."),
    col("airport_fee", _F, f"$2.50 for a pickup at LaGuardia, Newark or JFK, {_USD}."),
    col("tips", _F, f"Tips, {_USD}."),
    col("driver_pay", _F, f"Driver pay, net of commission, surcharges and taxes, {_USD}."),
    col("shared_request_flag", _S, "Y = the passenger agreed to a shared ride, N = not."),
    col("shared_match_flag", _S, "Y = the passenger shared the vehicle with another booking, N = not."),
    col("access_a_ride_flag", _S, "Y = administered on behalf of the MTA's Access-A-Ride, N = not."),
    col("wav_request_flag", _S, "Y = the passenger requested a wheelchair-accessible vehicle, N = not."),
    col("wav_match_flag", _S, "Y = the trip was in a wheelchair-accessible vehicle, N = not."),
    col("cbd_congestion_fee", _F, f"MTA Congestion Relief Zone toll, from January 2025, {_USD}."),
    col("sr_flag", _I, "1 = a shared ride; the mirror's older layout has it in place of the shared_* flags."),
]
