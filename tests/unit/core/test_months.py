import datetime as dt

from taxi_flows import settings
from taxi_flows.core import months


def test_month_helpers():
    assert months.month_start("2021-01") == dt.date(2021, 1, 1)
    assert months.month_start(dt.datetime(2021, 12, 31, 23, 59, tzinfo=dt.UTC)) == dt.date(2021, 12, 1)
    assert months.next_month(dt.date(2020, 12, 1)) == dt.date(2021, 1, 1)
    every = months.months_between(settings.FIRST_SOURCE_MONTH, settings.LAST_SOURCE_MONTH)
    assert (every[0], every[-1], len(every)) == (dt.date(2019, 1, 1), dt.date(2021, 7, 1), 31)
