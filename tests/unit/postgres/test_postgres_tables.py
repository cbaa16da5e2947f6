from taxi_flows import settings
from taxi_flows.core import schema
from taxi_flows.postgres import tables


def test_postgres_ddl_is_partitioned_and_commented():
    sch = schema.trip_schema("yellow")
    ddl = tables.trips_ddl(sch, settings.POSTGRES_SCHEMA)
    create = next(s for s in ddl if s.startswith("CREATE TABLE"))
    assert "PARTITION BY LIST (source_month)" in create
    assert "tpep_pickup_datetime timestamp without time zone" in create
    assert "source_month date NOT NULL" in create
    commented = {s.split(" IS ")[0].rsplit(".", 1)[1] for s in ddl if s.startswith("COMMENT ON COLUMN")}
    assert commented == set(sch.names)


def test_the_zone_table_has_its_key_and_comments():
    ddl = tables.zones_ddl(settings.POSTGRES_SCHEMA)
    assert "location_id bigint PRIMARY KEY" in ddl[1]
    assert sum(s.startswith("COMMENT ON COLUMN") for s in ddl) == len(schema.ZONE_COLUMNS)


def test_a_month_s_partition_is_named_by_table_and_month():
    import datetime as dt

    assert tables.partition_name(schema.trip_schema("green"), dt.date(2021, 3, 1)) == "green_tripdata_2021_03"
