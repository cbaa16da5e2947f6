import csv
import datetime as dt
import gzip

import pytest

from taxi_dev import sample_data
from taxi_flows.core import layouts


def header_of(color: str) -> list[str]:
    return layouts.layout_of(color, layouts.MIRROR, dt.date(2021, 1, 1)).source_names


def read(path):
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


@pytest.fixture(scope="module")
def yellow(tmp_path_factory):
    path = tmp_path_factory.mktemp("files") / "yellow_tripdata_2021-01.csv.gz"
    return read(sample_data.write_trips(path, "yellow", dt.date(2021, 1, 1), 20_000))


def share(rows, predicate) -> float:
    return sum(1 for r in rows if predicate(r)) / len(rows)


def test_real_header_and_size(yellow):
    header, rows = yellow
    assert header == header_of("yellow")
    assert len(rows) == 20_000


def test_quirks_in_realistic_shares(yellow):
    header, rows = yellow
    col = {name: i for i, name in enumerate(header)}

    def blank(name):
        return lambda r: r[col[name]] == ""

    tail = rows[-1000:]
    assert all(r[col["VendorID"]] == "" and r[col["passenger_count"]] == "" for r in tail)  # the blank tail
    assert 0.06 < share(rows, blank("VendorID")) < 0.09
    assert 0.01 < share(rows, lambda r: r[col["passenger_count"]] == "0") < 0.03
    assert 0.008 < share(rows, lambda r: r[col["trip_distance"]] == "0") < 0.025
    assert 0 < share(rows, lambda r: r[col["VendorID"]] not in ("", "1", "2")) < 0.01
    outside = share(rows, lambda r: not r[col["tpep_pickup_datetime"]].startswith("2021-01"))
    assert 0 < outside < 0.002
    assert len(rows) - len({tuple(r) for r in rows}) > 0  # exact duplicates
    # The dispatch rows of the tail cover the month too.
    tail_days = sorted(r[col["tpep_pickup_datetime"]][:10] for r in rows if r[col["VendorID"]] == "")
    assert tail_days[0] <= "2021-01-02"
    assert tail_days[-1] >= "2021-01-30"


def test_green_ehail_fee_is_always_empty(tmp_path):
    header, rows = read(sample_data.write_trips(tmp_path / "g.csv.gz", "green", dt.date(2020, 10, 1), 5000))
    assert header == header_of("green")
    assert {r[header.index("ehail_fee")] for r in rows} == {""}
    assert 0.3 < share(rows, lambda r: r[0] == "") < 0.5  # green's long blank tail from 2020


def test_2019_january_has_no_congestion_surcharge(tmp_path):
    header, rows = read(sample_data.write_trips(tmp_path / "y.csv.gz", "yellow", dt.date(2019, 1, 1), 2000))
    assert {r[header.index("congestion_surcharge")] for r in rows} == {""}


def test_deterministic(tmp_path):
    a = sample_data.write_trips(tmp_path / "a.csv.gz", "green", dt.date(2021, 3, 1), 500)
    b = sample_data.write_trips(tmp_path / "b.csv.gz", "green", dt.date(2021, 3, 1), 500)
    assert read(a) == read(b)


def test_zones(tmp_path):
    with open(sample_data.write_zones(tmp_path / "z.csv"), newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["LocationID", "Borough", "Zone", "service_zone"]
    assert len(rows) == 266
    assert rows[1] == ["1", "EWR", "Newark Airport", "EWR"]
    assert rows[-1] == ["265", "Unknown", "NA", "N/A"]


@pytest.mark.parametrize("color", ["fhv", "fhvhv"])
def test_for_hire_files_have_the_mirrors_header(tmp_path, color):
    header, rows = read(sample_data.write_trips(tmp_path / "f.csv.gz", color, dt.date(2019, 2, 1), 3000))
    assert header == header_of(color)
    assert len(rows) == 3000
    ids = header.index("PUlocationID" if color == "fhv" else "PULocationID")
    blank_ids = share(rows, lambda r: r[ids] == "")
    assert 0.2 < blank_ids < 0.4 if color == "fhv" else blank_ids == 0
    months = {r[header.index("pickup_datetime")][:7] for r in rows}
    assert "2019-02" in months
    assert months <= {"2019-02", "2019-01", "2019-03", "2008-12", "2009-01"}
