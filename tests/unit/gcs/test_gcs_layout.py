"""The bucket's object names and the Parquet writers, without a bucket."""

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from taxi_flows.core import schema
from taxi_flows.gcs import layout, parquet


def test_object_names_follow_the_documented_layout():
    month, day = dt.date(2021, 1, 1), dt.date(2021, 1, 31)
    assert layout.monthly_object("yellow", month) == "yellow/yellow_tripdata_2021-01.parquet"
    assert layout.partition_prefix("green", day) == "green_tripdata/lpep_pickup_date=2021-01-31/"
    assert layout.partition_file_name(month) == "2021-01.parquet"
    assert layout.daily_object("yellow", day) == "yellow/2021/01/31/daily-trips.parquet"
    assert layout.uri("b", layout.ZONES_OBJECT) == "gs://b/misc/taxi_zone_lookup.parquet"


def test_the_partitioned_writer_splits_by_date_and_keeps_every_row(tmp_path, monkeypatch):
    monkeypatch.setattr(parquet, "MAX_BUFFERED_ROWS", 10)  # force flushes across partitions
    sch = schema.trip_schema("yellow").arrow_schema
    days = [dt.date(2021, 1, 1 + i % 3) for i in range(100)]
    columns = {f.name: pa.nulls(100, f.type) for f in sch}
    columns["tpep_pickup_date"] = pa.array(days, pa.date32())
    batch = pa.RecordBatch.from_pydict(columns, schema=sch)
    writer = parquet.PartitionedWriter(tmp_path, sch, "tpep_pickup_date", "2021-01.parquet")
    writer.add(batch.slice(0, 50))
    writer.add(batch.slice(50))
    parts = writer.close()
    assert sorted(parts) == ["2021-01-01", "2021-01-02", "2021-01-03"]
    assert sum(p.rows for p in parts.values()) == 100
    file = pq.ParquetFile(tmp_path / "tpep_pickup_date=2021-01-02" / "2021-01.parquet")
    assert file.metadata.num_rows == 33
    assert "tpep_pickup_date" not in file.schema_arrow.names  # the date lives in the path
