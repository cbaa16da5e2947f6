import datetime as dt

import pyarrow as pa
import pytest

from taxi_flows.core import layouts, schema


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ("VendorID", "vendor_id"),
        ("RatecodeID", "ratecode_id"),
        ("PULocationID", "pu_location_id"),
        ("DOLocationID", "do_location_id"),
        ("tpep_pickup_datetime", "tpep_pickup_datetime"),
        ("LocationID", "location_id"),
        ("service_zone", "service_zone"),
    ],
)
def test_snake_case_matches_the_course(source, target):
    assert schema.snake_case(source) == target


@pytest.mark.parametrize(
    ("color", "n_trip", "pickup"),
    [("yellow", 24, "tpep_pickup"), ("green", 21, "lpep_pickup"), ("fhv", 7, "pickup"), ("fhvhv", 26, "pickup")],
)
def test_columns_of_each_trip_type(color, n_trip, pickup):
    sch = schema.trip_schema(color)
    assert len(sch.trip_columns) == n_trip
    assert sch.names[-2:] == [f"{pickup}_date", "source_month"]
    assert sch.pickup_date == f"{pickup}_date"
    assert sch.pickup_datetime == f"{pickup}_datetime"
    assert len(set(sch.names)) == len(sch.names)
    assert all(c.description for c in sch.columns)
    assert {"pu_location_id", "do_location_id"} <= set(sch.names)


def test_only_the_taxi_colours_have_the_courses_cleaning():
    assert schema.trip_schema("yellow").clean_view == "yellow_tripdata_clean"
    assert schema.trip_schema("fhv").clean_view is None
    assert schema.trip_schema("fhvhv").clean_condition is None


def test_arrow_schema_types():
    sch = schema.trip_schema("green").arrow_schema
    assert sch.field("lpep_pickup_datetime").type == pa.timestamp("us")  # naive, microseconds
    assert sch.field("ehail_fee").type == pa.float64()  # never inferred as an integer
    assert sch.field("vendor_id").type == pa.int64()
    assert sch.field("store_and_fwd_flag").type == pa.string()
    assert sch.field("lpep_pickup_date").type == pa.date32()
    assert sch.field("source_month").type == pa.date32()
    assert sch.field("trip_distance").metadata[b"description"]


def test_the_mirrors_layouts_map_the_files_names():
    fhv = layouts.layout_of("fhv", layouts.MIRROR, dt.date(2019, 1, 1)).targets
    assert fhv["dropOff_datetime"] == "dropoff_datetime"
    assert fhv["PUlocationID"] == "pu_location_id"
    yellow = layouts.layout_of("yellow", layouts.MIRROR, dt.date(2021, 7, 1)).targets
    assert yellow["VendorID"] == "vendor_id"
    assert yellow["RatecodeID"] == "ratecode_id"
    with pytest.raises(ValueError, match=r"fhvhv 2019-01 is not in the datatalksclub source's fhvhv months \(2019-02"):
        layouts.layout_of("fhvhv", layouts.MIRROR, dt.date(2019, 1, 1))


def test_unknown_trip_type():
    with pytest.raises(ValueError, match="unknown trip type 'taxi'"):
        schema.trip_schema("taxi")


def test_selected_colours_come_in_order_and_must_be_known():
    assert schema.select_colors(["fhvhv", "green", "yellow", "green"]) == ["yellow", "green", "fhvhv"]
    with pytest.raises(ValueError, match=r"params.colors must be a non-empty subset of \['yellow', 'green', 'fhv'"):
        schema.select_colors([])
    with pytest.raises(ValueError, match=r"got \['blue'\]"):
        schema.select_colors(["blue"])
