import pyarrow as pa
import pytest

from taxi_flows import schema


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


def test_postgres_ddl_is_partitioned_and_commented():
    sch = schema.trip_schema("yellow")
    ddl = schema.postgres_ddl(sch, "ny_taxi")
    create = next(s for s in ddl if s.startswith("CREATE TABLE"))
    assert "PARTITION BY LIST (source_month)" in create
    assert "tpep_pickup_datetime timestamp without time zone" in create
    assert "source_month date NOT NULL" in create
    commented = {s.split(" IS ")[0].rsplit(".", 1)[1] for s in ddl if s.startswith("COMMENT ON COLUMN")}
    assert commented == set(sch.names)


def test_bigquery_schema_derives_from_the_same_columns():
    fields = schema.trip_schema("green").bigquery_schema()
    by_name = {f["name"]: f for f in fields}
    assert [f["name"] for f in fields] == schema.trip_schema("green").names
    assert by_name["ehail_fee"]["type"] == "FLOAT64"
    assert by_name["lpep_pickup_datetime"]["type"] == "DATETIME"
    assert all(f["description"] for f in fields)


def test_unknown_colour():
    with pytest.raises(ValueError, match="unknown taxi colour 'fhv'"):
        schema.trip_schema("fhv")
