import datetime as dt

from taxi_flows import source


def test_month_helpers():
    assert source.month_start("2021-01") == dt.date(2021, 1, 1)
    assert source.month_start(dt.datetime(2021, 12, 31, 23, 59, tzinfo=dt.UTC)) == dt.date(2021, 12, 1)
    assert source.next_month(dt.date(2020, 12, 1)) == dt.date(2021, 1, 1)
    months = source.months_between(source.FIRST_MONTH, source.LAST_MONTH)
    assert (months[0], months[-1], len(months)) == (dt.date(2019, 1, 1), dt.date(2021, 7, 1), 31)


def test_urls_follow_the_release_layout():
    base = source.DEFAULT_BASE_URL + "/"
    assert source.trip_url(base, "yellow", dt.date(2021, 1, 1)) == (
        "https://github.com/DataTalksClub/nyc-tlc-data/releases/download/yellow/yellow_tripdata_2021-01.csv.gz"
    )
    assert source.zones_url(base).endswith("/releases/download/misc/taxi_zone_lookup.csv")
