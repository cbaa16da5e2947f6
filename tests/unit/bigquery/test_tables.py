from taxi_flows.bigquery import tables
from taxi_flows.core import schema


def test_bigquery_schema_derives_from_the_same_columns():
    fields = tables.trip_schema_fields("green")
    by_name = {f["name"]: f for f in fields}
    assert [f["name"] for f in fields] == schema.trip_schema("green").names
    assert by_name["ehail_fee"]["type"] == "FLOAT64"
    assert by_name["lpep_pickup_datetime"]["type"] == "DATETIME"
    assert all(f["description"] for f in fields)


def test_the_final_table_is_partitioned_by_pickup_date_and_clustered():
    resource = tables.trips_table_resource("yellow")
    assert resource["timePartitioning"] == {"type": "DAY", "field": "tpep_pickup_date"}
    assert resource["clustering"] == {"fields": ["source_month", "pu_location_id"]}
    assert [f["name"] for f in tables.zone_schema_fields()] == [c.name for c in schema.ZONE_COLUMNS]


def test_the_clean_view_is_the_courses_cleaning_of_the_table():
    resource = tables.clean_view_resource("green", "{{ var.value.taxi_bq_dataset }}")
    assert resource["view"] == {
        "query": "SELECT * FROM `{{ var.value.taxi_bq_dataset }}.green_tripdata` "
        "WHERE passenger_count > 0 AND trip_distance > 0",
        "useLegacySql": False,
    }
    assert tables.clean_view("green") == "green_tripdata_clean"
