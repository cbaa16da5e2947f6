"""The TLC's Parquet files: each period's layout and physical types read into the table's types,
exactly; a value that does not fit, or a column the bundle does not know, fails naming it."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from taxi_dev import tlc_files
from taxi_flows.core import layouts, parquet_reader, schema
from taxi_flows.core.body import SourceError
from taxi_flows.core.schema import Kind
from taxi_flows.core.transform import TripStats, transformed

pytestmark = pytest.mark.depends_on("arrow")

# Every TLC layout, and the months whose physical types drift within one.
PERIODS = [
    ("yellow", "2009-01"),  # names for codes, times as text, coordinates for zones
    ("yellow", "2010-02"),  # pandas' __index_level_0__ as a column
    ("yellow", "2011-01"),
    ("yellow", "2020-10"),  # airport_fee typed null
    ("yellow", "2023-01"),  # the last month of doubles
    ("yellow", "2024-01"),  # int32 ids, Airport_fee, large_string
    ("yellow", "2025-11"),  # cbd_congestion_fee
    ("green", "2014-01"),
    ("green", "2019-09"),  # ehail_fee typed null
    ("green", "2025-01"),
    ("fhv", "2015-01"),
    ("fhv", "2019-05"),  # location ids as double
    ("fhv", "2023-02"),  # SR_Flag int64
    ("fhvhv", "2019-02"),
    ("fhvhv", "2020-02"),  # airport_fee typed null
    ("fhvhv", "2025-01"),
]


def read(path, color: str, month: dt.date) -> tuple[pa.Table, TripStats]:
    sch, layout = schema.trip_schema(color), layouts.layout_of(color, layouts.TLC, month)
    file = parquet_reader.open_parquet(path, f"{color} {month:%Y-%m}", str(path))
    stats = TripStats(color=color, month=f"{month:%Y-%m}")
    parsed = parquet_reader.parquet_batches(file, layout, sch, f"{color} {month:%Y-%m}")
    batches = list(transformed(parsed, layout, sch, month, stats, "x"))
    return pa.Table.from_batches(batches, schema=sch.arrow_schema), stats


def test_a_large_file_is_written_a_slice_of_the_month_at_a_time(tmp_path, monkeypatch):
    month = dt.date(2024, 1, 1)
    monkeypatch.setattr(tlc_files, "SLICE_ROWS", 2_000)
    monkeypatch.setattr(tlc_files, "ROW_GROUP_ROWS", 500)
    path = tlc_files.write_tlc(tmp_path / "m.parquet", "fhvhv", month, 7_000)  # slices of 2,000, 2,000, 2,000, 1,000
    file = parquet_reader.open_parquet(path, "fhvhv 2024-01", str(path))
    assert file.metadata.num_rows == 7_000
    assert file.metadata.num_row_groups == 14
    assert file.schema_arrow.equals(tlc_files.tlc_table("fhvhv", month, 10).schema)
    pickups = file.read(columns=["pickup_datetime"]).column(0).to_pylist()
    quarter = [dt.datetime(2024, 1, 1) + dt.timedelta(seconds=31 * 86_400 * i // 4) for i in range(5)]
    for index, rows in enumerate((pickups[:2000], pickups[2000:4000], pickups[4000:6000], pickups[6000:])):
        assert rows == sorted(rows)  # each slice in pickup order, and in its quarter of the month
        in_month = [p for p in rows if p.month == 1 and p.year == 2024]
        assert len(in_month) > 0.99 * len(rows)
        assert quarter[index] <= min(in_month)
        assert max(in_month) < quarter[index + 1]
    assert len(set(file.read(columns=["request_datetime"]).column(0).to_pylist())) > 6_900  # no slice repeated
    table, stats = read(path, "fhvhv", month)
    assert table.num_rows == stats.rows_read == 7_000


@pytest.mark.parametrize(("color", "month"), PERIODS)
def test_each_period_reads_into_the_table_exactly(tmp_path, color, month):
    month = dt.date.fromisoformat(f"{month}-01")
    source = tlc_files.tlc_table(color, month, 3000)
    path = tlc_files.write_tlc(tmp_path / "m.parquet", color, month, 3000)
    table, stats = read(path, color, month)
    sch, layout = schema.trip_schema(color), layouts.layout_of(color, layouts.TLC, month)
    assert table.num_rows == stats.rows_read == 3000
    assert table.schema.equals(sch.arrow_schema, check_metadata=False)
    for name, target in layout.columns:  # every value kept: the same numbers, times and text
        original = source[name]
        if pa.types.is_null(original.type):
            assert table[target].null_count == 3000
        elif layout.code_table(name):  # a name read back as its code
            codes = {k.strip().upper(): v for k, v in layout.code_table(name).items()}
            as_text = pc.utf8_upper(original.cast(pa.string())).to_pylist()
            assert table[target].to_pylist() == [None if t is None else codes[t] for t in as_text], name
        else:
            assert table[target].to_pylist() == original.cast(sch.kind(target).arrow()).to_pylist(), name
    unfilled = set(sch.names) - {t for _, t in layout.columns} - {sch.pickup_date, "source_month"}
    assert all(table[name].null_count == 3000 for name in unfilled)


def test_a_column_the_bundle_does_not_know_fails_naming_it_and_where_to_map_it(tmp_path):
    month = dt.date(2026, 6, 1)
    table = tlc_files.tlc_table("yellow", dt.date(2025, 11, 1), 100).append_column(
        "request_source", pa.array(["app"] * 100)
    )
    pq.write_table(table, tmp_path / "m.parquet")
    with pytest.raises(SourceError, match=r"columns the bundle does not know: \['request_source'\].*core/layouts.py"):
        read(tmp_path / "m.parquet", "yellow", month)


def test_a_missing_column_fails_naming_it(tmp_path):
    table = tlc_files.tlc_table("green", dt.date(2021, 3, 1), 100).drop_columns(["trip_type"])
    pq.write_table(table, tmp_path / "m.parquet")
    with pytest.raises(SourceError, match=r"lacks columns of the green layout of 2014-01 … 2024-12.*\['trip_type'\]"):
        read(tmp_path / "m.parquet", "green", dt.date(2021, 3, 1))


@pytest.mark.parametrize(
    ("values", "kind", "message"),
    [
        (pa.array([1.0, 2.5]), Kind.INT, r"passenger_count has 2.5, which is not a whole number"),
        (pa.array([1.0, float("nan")]), Kind.INT, r"passenger_count has nan, which a bigint column cannot hold"),
        (pa.array([1.0, 1e19]), Kind.INT, r"passenger_count has 1e\+19, which cannot be stored as a bigint"),
        (pa.array([1, 2**60], pa.int64()), Kind.FLOAT, r"cannot be stored exactly as a double"),
        (pa.array(["2009-01-04 02:52:00", "soon"]), Kind.TIMESTAMP, r"passenger_count has 'soon', which is not a time"),
        (pa.array([1, 2]).cast(pa.timestamp("ns")).cast(pa.int64()).cast(pa.timestamp("ns")), Kind.TIMESTAMP, "fit"),
        (pa.array(["a"]), Kind.INT, r"passenger_count is string in the file, which the table's bigint column cannot"),
    ],
)
def test_a_value_that_does_not_fit_fails_naming_column_month_and_value(values, kind, message):
    with pytest.raises(SourceError, match=rf"yellow 2024-01: .*{message}"):
        parquet_reader.fit(values, kind, "passenger_count", "yellow 2024-01")


def test_values_that_fit_are_kept_exactly():
    assert parquet_reader.fit(pa.array([1.0, None, 1e9]), Kind.INT, "x", "w").to_pylist() == [1, None, 1_000_000_000]
    assert parquet_reader.fit(pa.nulls(2), Kind.FLOAT, "x", "w").type == pa.float64()
    far = dt.datetime(3019, 2, 1, 10, 0)  # fhv 2019-02's dropoff: a microsecond timestamp holds it
    assert parquet_reader.fit(pa.array([far], pa.timestamp("us")), Kind.TIMESTAMP, "x", "w").to_pylist() == [far]
    text = parquet_reader.fit(pa.array(["2009-01-04 02:52:00", " "]), Kind.TIMESTAMP, "x", "w")
    assert text.to_pylist() == [dt.datetime(2009, 1, 4, 2, 52), None]


@pytest.mark.parametrize(
    ("data", "message"),
    [(b"<html>Access Denied</html>", "is not a Parquet file"), (b"PAR1" + b"\0" * 100, "truncated Parquet file")],
)
def test_not_parquet_or_truncated(tmp_path, data, message):
    (tmp_path / "m.parquet").write_bytes(data)
    with pytest.raises(SourceError, match=message):
        parquet_reader.open_parquet(tmp_path / "m.parquet", "yellow 2024-01", "url")
