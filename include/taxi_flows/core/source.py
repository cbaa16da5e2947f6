"""Where the source files are: the URL of a colour's month file and of the zone lookup.

The base URL is the Variable taxi_source_base_url (default: the DataTalksClub releases, see
taxi_flows.settings); the months it publishes are settings.FIRST_SOURCE_MONTH … LAST_SOURCE_MONTH.
"""

from __future__ import annotations

import datetime as dt

ZONES_PATH = "misc/taxi_zone_lookup.csv"


def trip_file_name(color: str, month: dt.date) -> str:
    return f"{color}_tripdata_{month:%Y-%m}.csv.gz"


def trip_url(base_url: str, color: str, month: dt.date) -> str:
    """<base>/<color>/<color>_tripdata_<YYYY>-<MM>.csv.gz (GitHub answers with a redirect)."""
    return f"{base_url.rstrip('/')}/{color}/{trip_file_name(color, month)}"


def zones_url(base_url: str) -> str:
    return f"{base_url.rstrip('/')}/{ZONES_PATH}"
