"""The bucket's object names and the Parquet writers, without a bucket."""

import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq

from taxi_flows.core import schema
from taxi_flows.gcs import layout, manifest, parquet


def test_object_names_follow_the_documented_layout():
    month, day = dt.date(2021, 1, 1), dt.date(2021, 1, 31)
    assert layout.monthly_object("yellow", month) == "yellow/yellow_tripdata_2021-01.parquet"
    assert layout.partition_prefix("green", day) == "green_tripdata/lpep_pickup_date=2021-01-31/"
    load = "20261127T101500123456Z-a1b2c3"
    assert layout.partition_file_name(month, load) == f"2021-01_{load}.parquet"
    assert layout.manifest_object("green", month) == "green_tripdata_manifests/2021-01.json"
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
    assert [len(files) for files in parts.values()] == [1, 1, 1]
    assert writer.rows == sum(f.rows for files in parts.values() for f in files) == 100
    file = pq.ParquetFile(tmp_path / "tpep_pickup_date=2021-01-02" / "2021-01.parquet")
    assert file.metadata.num_rows == 33
    assert "tpep_pickup_date" not in file.schema_arrow.names  # the date lives in the path


def test_load_ids_sort_by_age_and_file_names_parse_back():
    first = layout.new_load_id()
    second = layout.new_load_id()
    assert first < second
    name = f"yellow_tripdata/tpep_pickup_date=2021-01-02/{layout.partition_file_name(dt.date(2021, 1, 1), first)}"
    assert layout.file_month_and_load(name) == ("2021-01", first)
    assert layout.file_month_and_load("x/tpep_pickup_date=2021-01-02/2021-01.parquet") == ("2021-01", None)
    later = layout.later_file_name(layout.partition_file_name(dt.date(2021, 1, 1), first), 1)
    assert later == f"2021-01_{first}.1.parquet"
    assert layout.file_month_and_load(f"x/p=1/{later}") == ("2021-01", first)  # the same load's
    assert layout.file_month_and_load("x/_SUCCESS") is None


def test_stale_files_are_the_month_s_older_loads_only():
    names = [
        "p=1/2021-01.parquet",  # before load ids
        "p=1/2021-01_20260101T000000000000Z-aaaaaa.parquet",  # older
        "p=1/2021-01_20260102T000000000000Z-bbbbbb.parquet",  # this load
        "p=1/2021-01_20260103T000000000000Z-cccccc.parquet",  # newer, running at the same time
        "p=1/2021-02_20260101T000000000000Z-aaaaaa.parquet",  # another month
    ]
    assert manifest.stale(names, "2021-01", "20260102T000000000000Z-bbbbbb") == names[:2]


def fhv_batch_and_writer(days: list[dt.date], tmp_path):
    """An fhv batch of len(days) rows (a base number, the pickup dates, the rest NULL) and a dataset writer."""
    sch = schema.trip_schema("fhv").arrow_schema
    columns = {f.name: pa.nulls(len(days), f.type) for f in sch}
    columns["dispatching_base_num"] = pa.array(["B02510"] * len(days))
    columns["pickup_date"] = pa.array(days, pa.date32())
    batch = pa.RecordBatch.from_pydict(columns, schema=sch)
    return batch, parquet.PartitionedWriter(tmp_path, sch, "pickup_date", "2021-01.parquet")


def test_the_partitioned_writer_holds_its_own_rows_not_slices_of_the_input(tmp_path):
    # A date with a few rows waits for its flush; were its rows a slice, the whole input batch would wait too.
    days = [dt.date(2021, 1, 31 if i == 0 else 1 + i % 2) for i in range(10_000)]
    batch, writer = fhv_batch_and_writer(days, tmp_path)
    writer.add(batch)
    held = writer.parts["2021-01-31"]._buffer
    assert sum(b.num_rows for b in held) == 1
    assert sum(b.get_total_buffer_size() for b in held) < batch.get_total_buffer_size() / 100
    writer.close()


def test_a_batch_in_date_order_is_sliced_and_a_date_with_a_few_rows_copied(tmp_path):
    # In pickup order (the TLC's files): no sort and no copy of the batch; a date's last few rows are
    # copied out (they wait for their flush), most of a batch is a slice (it pins at most twice its rows).
    days = [dt.date(2021, 1, 1)] * 100 + [dt.date(2021, 1, 2)] * 9_900
    batch, writer = fhv_batch_and_writer(days, tmp_path)
    writer.add(batch)
    (few,), (most,) = writer.parts["2021-01-01"]._buffer, writer.parts["2021-01-02"]._buffer
    assert (few.num_rows, most.num_rows) == (100, 9_900)
    base = batch.column("dispatching_base_num").buffers()[2].address
    assert most.column("dispatching_base_num").buffers()[2].address == base  # the input's own memory
    assert few.column("dispatching_base_num").buffers()[2].address != base
    parts = writer.close()
    assert {day: [p.rows for p in files] for day, files in parts.items()} == {
        "2021-01-01": [100],
        "2021-01-02": [9_900],
    }


def test_a_date_that_is_done_is_sealed_and_its_late_rows_go_to_one_more_file(tmp_path, monkeypatch):
    # In pickup order a day is done once two batches went by without it: its file is closed and handed
    # over (web_to_gcs uploads it while the rest is read). A row of it that comes later (a late record)
    # goes to a second file, which stays open to the end; a date outside the month is never sealed.
    monkeypatch.setattr(parquet, "SEAL_MIN_ROWS", 100)
    day = [dt.date(2021, 1, d) for d in range(1, 6)]
    before = [dt.date(2020, 12, 31)] * 100
    pattern = [day[0]] * 400 + before + [day[1]] * 500 + [day[2]] * 500 + [day[3]] * 500 + [day[0]] + [day[4]] * 499
    batch, _ = fhv_batch_and_writer(pattern, tmp_path)
    sealed = []
    writer = parquet.PartitionedWriter(
        tmp_path,
        batch.schema,
        "pickup_date",
        "2021-01.parquet",
        on_sealed=lambda value, part: sealed.append(value),
        seal_dates=(day[0], dt.date(2021, 1, 31)),
    )
    for start in range(0, 2_000, 500):
        writer.add(batch.slice(start, 500))
    assert sealed == ["2021-01-01", "2021-01-02"]  # done: two batches without them (2020-12-31: not of the month)
    assert pq.ParquetFile(writer.files["2021-01-01"][0].path).metadata.num_rows == 400  # closed, whole
    writer.add(batch.slice(2_000))  # 2021-01-01 again (a second file), 2021-01-05
    files = writer.close()
    assert sealed == ["2021-01-01", "2021-01-02", "2021-01-03"]  # a date's second file is never sealed
    assert [p.path.name for p in files["2021-01-01"]] == ["2021-01.parquet", "2021-01.1.parquet"]
    assert [p.rows for p in files["2021-01-01"]] == [400, 1]
    assert [p.rows for p in files["2020-12-31"]] == [100]
    assert writer.rows == len(pattern)


def test_a_manifest_of_one_name_per_date_reads_as_lists():
    import json

    old = {"color": "green", "month": "2021-01", "load_id": "x", "rows": 3, "files": {"2021-01-01": "a.parquet"}}
    assert manifest.parse(json.dumps(old).encode()).files == {"2021-01-01": ["a.parquet"]}
    new = {**old, "files": {"2021-01-01": ["a.parquet", "a.1.parquet"], "2021-01-02": ["b.parquet"]}}
    assert manifest.parse(json.dumps(new).encode()).names() == ["a.parquet", "a.1.parquet", "b.parquet"]
