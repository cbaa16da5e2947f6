"""Where the source files are, and which months exist."""

from __future__ import annotations

import datetime as dt

# DataTalksClub re-hosts the TLC's CSVs as GitHub release assets; GitHub answers with a redirect.
DEFAULT_BASE_URL = "https://github.com/DataTalksClub/nyc-tlc-data/releases/download"
BASE_URL_VARIABLE = "taxi_source_base_url"

# The months the re-hosted yellow and green files cover.
FIRST_MONTH = dt.date(2019, 1, 1)
LAST_MONTH = dt.date(2021, 7, 1)

ZONES_PATH = "misc/taxi_zone_lookup.csv"


def month_start(value: dt.date | dt.datetime | str) -> dt.date:
    """The first day of the month of a date, a datetime or a 'YYYY-MM[-DD]' string."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value if len(value) > 7 else f"{value}-01")
    return dt.date(value.year, value.month, 1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from first to last, both included."""
    out, m = [], month_start(first)
    while m <= last:
        out.append(m)
        m = next_month(m)
    return out


def trip_file_name(color: str, month: dt.date) -> str:
    return f"{color}_tripdata_{month:%Y-%m}.csv.gz"


def trip_url(base_url: str, color: str, month: dt.date) -> str:
    return f"{base_url.rstrip('/')}/{color}/{trip_file_name(color, month)}"


def zones_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{ZONES_PATH}"
