"""taxi_web_to_gcs and taxi_daily_trips_to_gcs through Airflow (dag.test), against the session's GCS
emulator, through the google provider's GCSHook client."""

from __future__ import annotations

import datetime as dt
import logging

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from support.dagrun import bad_input_params, good_then_bad, gz_csv, load_dag, log_messages, raw_quirks, run, sample_rows

from taxi_dev import airflow_meta
from taxi_flows.core.schema import trip_schema
from taxi_flows.gcs import layout, manifest, storage
from taxi_flows.orchestration import assets
from taxi_flows.orchestration.compat import asset_name

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def monthly(stack):
    return load_dag(stack, "taxi_web_to_gcs")


@pytest.fixture(scope="module")
def daily(stack):
    return load_dag(stack, "taxi_daily_trips_to_gcs")


def objects(client, bucket: str, prefix: str = "") -> dict[str, tuple[str, int]]:
    """name -> (crc32c, generation) of every object under prefix."""
    return {b.name: (b.crc32c, b.generation) for b in client.list_blobs(bucket, prefix=prefix)}


def dataset(client, bucket: str, color: str = "yellow") -> dict[tuple[str, str], tuple[str, tuple]]:
    """{(date partition, source month): (object name, (crc32c, generation))} of the pickup-date dataset,
    checking that it holds one load of each month (stale loads deleted)."""
    out: dict[tuple[str, str], tuple[str, tuple]] = {}
    for obj, version in objects(client, bucket, f"{color}_tripdata/").items():
        partition, file = obj.rsplit("/", 1)
        month, _ = layout.file_month_and_load(file)
        assert (partition, month) not in out, f"two loads of {month} in {partition}"
        out[(partition, month)] = (obj, version)
    return out


def read(client, bucket: str, name: str) -> pa.Table:
    return pq.read_table(pa.BufferReader(storage.download(client, bucket, name)))


def pickup_dates(header, rows, color) -> dict[str, int]:
    """The file's rows (every one is loaded) by pickup date: computed from the source rows directly."""
    t = header.index(trip_schema(color).pickup_datetime)
    out: dict[str, int] = {}
    for r in rows:
        day = str(r[t])[:10]
        out[day] = out.get(day, 0) + 1
    return out


def quirks_in(table: pa.Table) -> dict[str, int]:
    """raw_quirks() of rows as written (target names)."""
    passengers, distance = table["passenger_count"].to_pylist(), table["trip_distance"].to_pylist()
    return {
        "blank_passenger_count": passengers.count(None),
        "zero_passenger_count": passengers.count(0),
        "zero_trip_distance": distance.count(0.0),
    }


def latest_event(asset) -> dict:
    return airflow_meta.latest_event_extra(asset_name(asset))


def test_a_month_of_both_colours_to_both_outputs(monthly, bucket, serve):
    client, name = bucket
    source_rows = {}
    for color, n in (("yellow", 4000), ("green", 2000)):
        header, rows = sample_rows(color, "2021-01", n)
        serve(color, "2021-01", gz_csv(header, rows))
        source_rows[color] = (header, rows)

    dr, states = run(monthly, "2021-01")
    assert dr.state == "success", states

    for color, (header, rows) in source_rows.items():
        sch = trip_schema(color)
        # One file for the month: every row of the file, the blank tail and the zeros included; the
        # schema's types (naive microsecond times).
        table = read(client, name, f"{color}/{color}_tripdata_2021-01.parquet")
        assert table.num_rows == len(rows)
        assert quirks_in(table) == raw_quirks(rows, header)
        assert min(raw_quirks(rows, header).values()) > 0
        assert table.schema.equals(sch.arrow_schema, check_metadata=False)
        assert set(table["source_month"].to_pylist()) == {dt.date(2021, 1, 1)}
        pickup = pq.ParquetFile(
            pa.BufferReader(storage.download(client, name, f"{color}/{color}_tripdata_2021-01.parquet"))
        )
        logical = str(pickup.schema.column(table.schema.get_field_index(sch.pickup_datetime)).logical_type)
        assert "isAdjustedToUTC=false" in logical
        assert "microseconds" in logical

        # The dataset: one file per pickup date, named by the source month and the load, the date in
        # the path only; the month's manifest names exactly these files.
        by_date = pickup_dates(header, rows, color)
        written = dataset(client, name, color)
        assert set(written) == {(f"{color}_tripdata/{sch.pickup_date}={day}", "2021-01") for day in by_date}
        committed, _ = manifest.read(client, name, color, "2021-01")
        partition = f"{color}_tripdata/{sch.pickup_date}="
        assert committed.files == {day: [written[(f"{partition}{day}", "2021-01")][0]] for day in by_date}
        assert committed.rows == table.num_rows
        assert committed.source["source_bytes"] == len(gz_csv(header, rows))
        assert committed.source["source_url"].endswith(f"/{color}/{color}_tripdata_2021-01.csv.gz")
        for day, count in by_date.items():
            (file,) = committed.files[day]
            part = read(client, name, file)
            assert part.num_rows == count
            assert sch.pickup_date not in part.column_names
            assert {t.date().isoformat() for t in part[sch.pickup_datetime].to_pylist()} == {day}

        # The Asset events say which month, where, and how many rows.
        event = latest_event(assets.monthly_parquet(color))
        assert event == {
            "color": color,
            "month": "2021-01",
            "rows": table.num_rows,
            "uri": f"gs://{name}/{color}/{color}_tripdata_2021-01.parquet",
            "source": "datatalksclub",  # the mirror has the month: the course's file
            "source_url": committed.source["source_url"],
        }
        assert latest_event(assets.pickup_date_dataset(color))["partitions"] == len(by_date)


def test_reruns_replace_a_month_and_leave_other_months_alone(monthly, bucket, serve):
    client, name = bucket
    header, jan = sample_rows("yellow", "2021-01", 3000)
    _, feb = sample_rows("yellow", "2021-02", 3000)
    pickup, passengers, distance = (
        header.index(c) for c in ("tpep_pickup_datetime", "passenger_count", "trip_distance")
    )
    jan[0][pickup], jan[0][passengers], jan[0][distance] = dt.datetime(2008, 12, 31, 1, 2, 3), 1, 1.0
    for i in range(0, 300, 15):  # late records: February's file holds trips picked up on 31 January
        feb[i][pickup] = dt.datetime(2021, 1, 31, 23, 0, 0)
    serve("yellow", "2021-01", gz_csv(header, jan))
    serve("yellow", "2021-02", gz_csv(header, feb))
    assert run(monthly, "2021-01", ["yellow"])[0].state == "success"
    assert run(monthly, "2021-02", ["yellow"])[0].state == "success"
    before = dataset(client, name)
    shared = "yellow_tripdata/tpep_pickup_date=2021-01-31"
    assert {(shared, "2021-01"), (shared, "2021-02")} <= set(before)

    # The same file again: a new load of January with the same content, one load per month.
    assert run(monthly, "2021-01", ["yellow"])[0].state == "success"
    after = dataset(client, name)
    assert {k: md5 for k, (_, (md5, _)) in after.items()} == {k: md5 for k, (_, (md5, _)) in before.items()}
    february = {k: v for k, v in before.items() if k[1] == "2021-02"}
    assert {k: after[k] for k in february} == february  # not even rewritten

    # January's file changes: its 2008 pickup is gone, so is that file; February's are untouched.
    serve("yellow", "2021-01", gz_csv(header, jan[1:]))
    assert run(monthly, "2021-01", ["yellow"])[0].state == "success"
    after = dataset(client, name)
    assert ("yellow_tripdata/tpep_pickup_date=2008-12-31", "2021-01") not in after
    assert {k: after[k] for k in february} == february


def test_a_daily_backfill_of_a_week_writes_seven_objects_per_colour(monthly, daily, bucket, serve):
    client, name = bucket
    expected = {}
    for color in ("yellow", "green"):
        header, rows = sample_rows(color, "2021-01", 3000)
        serve(color, "2021-01", gz_csv(header, rows))
        expected[color] = pickup_dates(header, rows, color)
    assert run(monthly, "2021-01")[0].state == "success"

    days = [dt.date(2021, 1, 10) + dt.timedelta(days=i) for i in range(7)]
    for day in days:
        dr, states = run(daily, day.isoformat())
        assert dr.state == "success", states
    for color in ("yellow", "green"):
        written = objects(client, name, f"{color}/2021/")
        assert set(written) == {f"{color}/{d:%Y/%m/%d}/daily-trips.parquet" for d in days}
        for day in days:
            table = read(client, name, f"{color}/{day:%Y/%m/%d}/daily-trips.parquet")
            assert table.num_rows == expected[color][day.isoformat()]
            assert table.schema.equals(trip_schema(color).arrow_schema, check_metadata=False)
            assert set(table[trip_schema(color).pickup_date].to_pylist()) == {day}
        assert latest_event(assets.daily_trips(color))["day"] == days[-1].isoformat()

    # A re-run rewrites its one object.
    before = objects(client, name, "yellow/2021/")
    assert run(daily, "2021-01-12", ["yellow"])[0].state == "success"
    after = objects(client, name, "yellow/2021/")
    changed = {k for k in before if before[k][1] != after[k][1]}
    assert changed == {"yellow/2021/01/12/daily-trips.parquet"}
    assert after["yellow/2021/01/12/daily-trips.parquet"][0] == before["yellow/2021/01/12/daily-trips.parquet"][0]


def test_a_day_without_trips_gets_an_empty_file_and_says_so(daily, bucket):
    client, name = bucket
    # A month whose load committed with no trips on the 15th (a manifest without that day).
    manifest.commit(client, name, manifest.Manifest("green", "2020-06", layout.new_load_id(), 0, {}))
    with log_messages(logging.WARNING) as messages:
        assert run(daily, "2020-06-15", ["green"])[0].state == "success"
    table = read(client, name, "green/2020/06/15/daily-trips.parquet")
    assert table.num_rows == 0
    assert table.schema.equals(trip_schema("green").arrow_schema, check_metadata=False)
    assert any(m.startswith("green 2020-06-15: no trips were picked up that day") for m in messages), messages


def test_a_day_of_a_month_not_loaded_fails_and_writes_nothing(daily, bucket):
    client, name = bucket
    with log_messages(logging.ERROR) as messages:
        dr, states = run(daily, "2020-05-15", ["green"])
    assert dr.state == "failed"
    assert states[("green_daily_trips", -1)] == ("failed", 1)  # at once: a retry would find nothing either
    assert "green/2020/05/15/daily-trips.parquet" not in objects(client, name, "green/2020/")
    assert any("green 2020-05 is not in GCS" in m and "run taxi_web_to_gcs for 2020-05" in m for m in messages)


@pytest.mark.parametrize(
    "bad",
    bad_input_params(
        [
            "truncated gzip",
            "html page",
            "changed header",
            "failed quality checks",
            "header only",
            "dates without times",
            "absurd passenger_count",
            "zone id not in the lookup",
            "NaN fares",
            "dropoffs in 2099",
            "pickups without times",
            "every fare negative",
            "a line that never ends",
            "404",
        ]
    ),
)
def test_bad_input_writes_and_removes_nothing(monthly, bucket_as_left, serve, monkeypatch, stack, bad):
    client, name = bucket_as_left  # (good_then_bad loads the good month when the bucket does not hold it)
    bad_run = good_then_bad(monthly, serve, monkeypatch, stack.s.source_base_url, bad, lambda: objects(client, name))

    assert bad_run.run.state == "failed"
    assert bad_run.states[("yellow_to_gcs", -1)] == ("failed", 1)
    assert bad_run.logged_the_error(), bad_run.messages
    assert objects(client, name) == bad_run.before


def test_a_gcs_that_is_down_fails_fast(stack, monkeypatch):
    """Explicit timeouts and bounded retries: no two-minute hang per call when the service is down."""
    import time

    from google.api_core.exceptions import RetryError

    from taxi_dev.settings import free_port

    monkeypatch.setenv("STORAGE_EMULATOR_HOST", f"http://127.0.0.1:{free_port()}")  # nothing listens there
    monkeypatch.setattr(storage, "RETRY_SECONDS", 3)
    client = storage.client()
    started = time.monotonic()
    with pytest.raises(RetryError, match=r"Timeout of 3\.0s exceeded.*Max retries exceeded"):
        storage.list_names(client, stack.s.gcs_bucket, "")
    assert time.monotonic() - started < 30


@pytest.mark.depends_on("arrow", "google-clients")
def test_dates_that_are_done_go_up_while_the_month_is_read_and_a_failed_load_takes_them_back(
    stack, bucket, serve, monkeypatch
):
    """A file in pickup order, read in small blocks: each day's file goes up once the stream has moved
    on, a late record of a day already up gets a second file (both committed, both in the daily export),
    and a load that fails its checks at the end deletes the files it had uploaded."""
    from taxi_flows.core import csv_reader
    from taxi_flows.core.quality import DataQualityError
    from taxi_flows.gcs import daily, parquet, web_to_gcs

    client, name = bucket
    monkeypatch.setattr(csv_reader, "BLOCK_SIZE", 16 * 1024)  # about 100 rows a batch
    monkeypatch.setattr(web_to_gcs, "BLOCKS_PER_BATCH", 1)
    monkeypatch.setattr(parquet, "SEAL_MIN_ROWS", 20)
    header, rows = sample_rows("yellow", "2021-04", 3000)
    pickup, vendor = header.index("tpep_pickup_datetime"), header.index("VendorID")
    rows.sort(key=lambda r: r[pickup])
    late = [*rows[100][:pickup], dt.datetime(2021, 4, 3, 12, 0, 0), *rows[100][pickup + 1 :]]
    serve("yellow", "2021-04", gz_csv(header, [*rows, late]))
    month = dt.date(2021, 4, 1)

    summary = web_to_gcs.web_to_gcs(client, name, stack.s.source_base_url, "yellow", month)
    committed, _ = manifest.read(client, name, "yellow", "2021-04")
    by_date = pickup_dates(header, [*rows, late], "yellow")
    assert summary["dataset_files_uploaded_while_encoding"] >= 20, summary
    assert len(committed.files["2021-04-03"]) == 2  # the day's file, then the late record's
    assert summary["dataset_files"] == len(committed.names()) == len(by_date) + 1
    assert {
        day: sum(read(client, name, n).num_rows for n in names) for day, names in committed.files.items()
    } == by_date
    assert set(objects(client, name, "yellow_tripdata/")) == set(committed.names())
    assert daily.daily_trips_to_gcs(client, name, "yellow", dt.date(2021, 4, 3))["rows"] == by_date["2021-04-03"]

    # The same month again, with every fifth vendor unknown (10 %: the check fails after the whole file
    # was read, and many of its days had gone up): the bucket is left exactly as it was.
    before = objects(client, name)
    for r in rows[::5]:
        r[vendor] = 9
    serve("yellow", "2021-04", gz_csv(header, rows))
    uploaded, upload = [], storage.upload
    monkeypatch.setattr(storage, "upload", lambda gcs, b, n, *a: uploaded.append(n) or upload(gcs, b, n, *a))
    with pytest.raises(DataQualityError, match="vendor_id other than 1, 2, 6, 7"):
        web_to_gcs.web_to_gcs(client, name, stack.s.source_base_url, "yellow", month)
    assert uploaded  # days went up before the check failed (14 to 20 of the 30: the uploads run beside the read)
    assert objects(client, name) == before
