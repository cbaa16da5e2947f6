import pyarrow as pa
import pytest

from taxi_flows.core import schema


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


@pytest.mark.parametrize(("color", "n_source", "prefix"), [("yellow", 18, "tpep"), ("green", 20, "lpep")])
def test_columns_of_each_colour(color, n_source, prefix):
    sch = schema.trip_schema(color)
    assert len(sch.source_columns) == n_source
    assert sch.names[-2:] == [f"{prefix}_pickup_date", "source_month"]
    assert sch.pickup_date == f"{prefix}_pickup_date"
    assert sch.pickup_datetime == f"{prefix}_pickup_datetime"
    assert len(set(sch.names)) == len(sch.names)
    assert all(c.description for c in sch.columns)


def test_arrow_schema_types():
    sch = schema.trip_schema("green").arrow_schema
    assert sch.field("lpep_pickup_datetime").type == pa.timestamp("us")  # naive, microseconds
    assert sch.field("ehail_fee").type == pa.float64()  # never inferred as an integer
    assert sch.field("vendor_id").type == pa.int64()
    assert sch.field("store_and_fwd_flag").type == pa.string()
    assert sch.field("lpep_pickup_date").type == pa.date32()
    assert sch.field("source_month").type == pa.date32()
    assert sch.field("trip_distance").metadata[b"description"]


def test_source_types_for_parsing_use_source_names():
    types = schema.trip_schema("yellow").source_arrow_types()
    assert types["VendorID"] == pa.int64()
    assert types["tpep_pickup_datetime"] == pa.timestamp("us")


def test_unknown_colour():
    with pytest.raises(ValueError, match="unknown taxi colour 'fhv'"):
        schema.trip_schema("fhv")


def test_selected_colours_come_in_order_and_must_be_known():
    assert schema.select_colors(["green", "yellow", "green"]) == ["yellow", "green"]
    with pytest.raises(
        ValueError, match=r"params.colors must be a non-empty subset of \['yellow', 'green'\], got \[\]"
    ):
        schema.select_colors([])
    with pytest.raises(ValueError, match="got \\['fhv'\\]"):
        schema.select_colors(["fhv"])
