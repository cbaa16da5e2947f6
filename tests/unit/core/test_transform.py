import datetime as dt
import gzip
import io

import pyarrow as pa
import pytest

from taxi_flows.core import csv_reader, layouts, quality, schema, transform
from taxi_flows.core.download import SourceError

YELLOW = schema.trip_schema("yellow")
MONTH = dt.date(2021, 1, 1)
LAYOUT = layouts.layout_of("yellow", layouts.MIRROR, MONTH)
HEADER = ",".join(LAYOUT.source_names)


def row(vendor="1", pickup="2021-01-05 10:00:00", passengers="1", distance="2.5", flag="N") -> str:
    return f"{vendor},{pickup},2021-01-05 10:20:00,{passengers},{distance},1,{flag},142,43,2,8,3,0.5,0,0,0.3,11.8,2.5"


def run(lines: list[str], header: str = HEADER) -> tuple[pa.Table, transform.TripStats]:
    stream = io.BytesIO(("\n".join([header, *lines]) + "\n").encode())
    stats = transform.TripStats(color="yellow", month="2021-01")
    batches = list(transform.trip_batches(stream, LAYOUT, YELLOW, MONTH, stats, "yellow 2021-01"))
    return pa.Table.from_batches(batches, schema=YELLOW.arrow_schema), stats


def test_every_row_is_kept_and_the_courses_cleaning_counted():
    table, stats = run(
        [
            row(),
            row(passengers="0"),
            row(passengers=""),  # the blank tail: blank passenger_count is not > 0
            row(vendor="", passengers="", flag=""),
            row(distance="0"),
            row(distance="0", passengers="0"),  # counted once, by the first rule
            row(vendor="4"),  # a retired code
            row(vendor="6"),  # Myle and Helix: known in the TLC's 2025 dictionary
            row(vendor="7"),
            row(pickup="2008-12-31 23:59:59"),
            row(pickup="2021-02-01 00:00:01"),
        ]
    )
    assert stats.rows_read == table.num_rows == 11
    assert stats.cleaning_removes_passenger_count == 4
    assert stats.cleaning_removes_trip_distance == 1
    assert stats.rows_clean == 6
    assert stats.blank_vendor == 1
    assert stats.unknown_vendor == 1
    assert stats.out_of_month_pickups == 2
    assert stats.summary()["pickup_date_min"] == "2008-12-31"
    assert table.column_names == YELLOW.names
    assert table["vendor_id"].to_pylist() == [1, 1, 1, None, 1, 1, 4, 6, 7, 1, 1]
    assert table["passenger_count"].to_pylist()[:4] == [1, 0, None, None]
    last_three = [dt.date(2021, 1, 5), dt.date(2008, 12, 31), dt.date(2021, 2, 1)]
    assert table["tpep_pickup_date"].to_pylist()[-3:] == last_three
    assert set(table["source_month"].to_pylist()) == {MONTH}


def test_store_and_fwd_flag_stays_a_string_and_blank_is_null():
    table, _ = run([row(flag="Y"), row(flag="")])
    assert table["store_and_fwd_flag"].to_pylist() == ["Y", None]


def test_a_changed_header_names_the_columns():
    header = HEADER.replace("VendorID", "VendorId").replace(",congestion_surcharge", "")
    with pytest.raises(SourceError, match=r"missing \['VendorID', 'congestion_surcharge'\]; unexpected \['VendorId'\]"):
        run([row()[:-4]], header=header)


def test_columns_out_of_order():
    names = LAYOUT.source_names
    header = ",".join([names[1], names[0], *names[2:]])
    with pytest.raises(SourceError, match="columns out of order"):
        run([row()], header=header)


def test_wrong_types_fail_clearly():
    with pytest.raises(SourceError, match=r"does not parse with the yellow schema's types.*abc"):
        run([row(), row(passengers="abc")])


@pytest.mark.parametrize("blocks_per_batch", [1, 4])
def test_memory_is_a_few_blocks_at_a_time(monkeypatch, blocks_per_batch):
    monkeypatch.setattr(csv_reader, "BLOCK_SIZE", 4096)  # about 30 rows
    lines = [row() for _ in range(2000)]
    stream = io.BytesIO(gzip.compress(("\n".join([HEADER, *lines]) + "\n").encode()))
    stats = transform.TripStats(color="yellow", month="2021-01")
    sizes = [
        b.num_rows
        for b in transform.trip_batches(
            gzip.GzipFile(fileobj=stream), LAYOUT, YELLOW, MONTH, stats, "x", blocks_per_batch=blocks_per_batch
        )
    ]
    assert sum(sizes) == 2000
    assert len(sizes) > 20 // blocks_per_batch
    assert max(sizes) < 100 * blocks_per_batch
    assert stats.rows_read == 2000


def test_plausibility_counts_on_every_row():
    def trip(pickup, dropoff, passengers="1", distance="2.5", pu="142", flag="N") -> str:
        return f"1,{pickup},{dropoff},{passengers},{distance},1,{flag},{pu},43,2,8,3,0.5,0,0,0.3,11.8,2.5"

    lines = [
        trip("2021-01-05 10:00:00", "2021-01-05 10:20:00"),  # plausible
        trip("2021-01-05", "2021-01-05"),  # a date without a time: midnight, 0 s
        trip("2021-01-05 10:00:00", "2021-01-05 09:00:00"),  # dropoff before pickup
        trip("2021-01-05 10:00:00", "2021-01-06 10:00:01"),  # longer than a day
        trip("2021-01-05 10:00:00", "2021-01-05 10:20:00", passengers="10"),
        trip("2021-01-05 10:00:00", "2021-01-05 10:20:00", distance="1000.5"),
        trip("2021-01-05 10:00:00", "2021-01-05 10:20:00", pu="266"),
        trip("2021-01-05 10:00:00", "2021-01-05 10:20:00", pu=""),  # blank: not checked
        trip("2021-01-05 10:00:00", "2021-01-05 10:20:00", flag="1"),
        trip("2021-01-05 10:00:00", "2021-01-05 09:00:00", passengers="0"),  # cleaned away, counted all the same
    ]
    stream = io.BytesIO(("\n".join([HEADER, *lines]) + "\n").encode())
    stats = transform.TripStats(color="yellow", month="2021-01")
    zone_ids = pa.array(range(1, 266), pa.int64())
    list(transform.trip_batches(stream, LAYOUT, YELLOW, MONTH, stats, "yellow 2021-01", zone_ids))
    assert stats.rows_read == 10
    assert stats.rows_clean == 9
    counts = {k: v for k, v in stats.summary().items() if k in {f for f, _, _ in quality.PLAUSIBILITY}}
    assert counts == {
        "future_times": 0,
        "pickup_at_midnight": 1,
        "dropoff_at_midnight": 1,
        "negative_fares": 0,
        "dropoff_before_pickup": 2,
        "longer_than_a_day": 1,
        "too_many_passengers": 1,
        "too_long_distance": 1,
        "unknown_zones": 1,
        "unknown_store_and_fwd_flag": 1,
    }


def test_a_header_only_file_has_its_own_message():
    with pytest.raises(SourceError, match=r"^yellow 2021-01: the file has a header line and no rows$"):
        run([])


def test_values_no_meter_writes_are_counted_by_column():
    def trip(pickup="2021-01-05 10:00:00", dropoff="2021-01-05 10:20:00", fare="8", distance="2.5", flag="N") -> str:
        return f"1,{pickup},{dropoff},1,{distance},1,{flag},142,43,2,{fare},3,0.5,0,0,0.3,11.8,2.5"

    _, stats = run(
        [
            trip(),
            trip(fare="nan"),
            trip(fare="inf", distance="-inf"),
            trip(fare="-8"),  # a refund: data, counted
            trip(dropoff="2099-01-05 10:20:00"),  # the future
            trip(pickup="2021-01-05 00:00:00"),  # a pickup alone at midnight
        ]
    )
    assert stats.non_finite == {"fare_amount": 2, "trip_distance": 1}
    assert stats.future_times == 1
    assert stats.negative_fares == 1
    assert (stats.pickup_at_midnight, stats.dropoff_at_midnight) == (1, 0)


def test_a_nul_byte_in_text_fails_at_once_naming_the_column():
    with pytest.raises(SourceError, match=r"yellow 2021-01 .*store_and_fwd_flag: a NUL byte in 1 of its"):
        run([row(), row(flag="N\x00")])
