"""Where the source files are: the URL of a trip type's month file and of the zone lookup.

The base URL is the Variable taxi_source_base_url (default: the DataTalksClub releases, see
taxi_flows.settings); the months the monthly DAGs run are settings.FIRST_SOURCE_MONTH …
LAST_SOURCE_MONTH, and the months of each trip type are its layouts' (taxi_flows.core.layouts):
fhvhv starts in 2019-02.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit, urlunsplit

from taxi_flows.core.months import next_month
from taxi_flows.settings import FIRST_SOURCE_MONTH, LAST_SOURCE_MONTH

ZONES_PATH = "misc/taxi_zone_lookup.csv"


def trip_file_name(color: str, month: dt.date) -> str:
    return f"{color}_tripdata_{month:%Y-%m}.csv.gz"


def join(base_url: str, path: str) -> str:
    """base_url with path appended to its path: the query (a signed URL's token) and the fragment
    stay at the end, where the server reads them."""
    parts = urlsplit(base_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{path}"))


def trip_url(base_url: str, color: str, month: dt.date) -> str:
    """<base>/<color>/<color>_tripdata_<YYYY>-<MM>.csv.gz (GitHub answers with a redirect)."""
    return join(base_url, f"{color}/{trip_file_name(color, month)}")


def zones_url(base_url: str) -> str:
    return join(base_url, ZONES_PATH)


def check_published(month: dt.date) -> dt.date:
    """month (YYYY-MM-01), if the source publishes it; else ValueError naming the range."""
    if FIRST_SOURCE_MONTH <= month <= LAST_SOURCE_MONTH:
        return month
    raise ValueError(
        f"{month:%Y-%m} is outside the source's months, {FIRST_SOURCE_MONTH:%Y-%m} … {LAST_SOURCE_MONTH:%Y-%m}: "
        f"pick a logical date from {FIRST_SOURCE_MONTH} to {LAST_SOURCE_MONTH} (YYYY-MM-01 loads month YYYY-MM)"
    )


def check_type_month(color: str, month: dt.date) -> dt.date:
    """month, if the source has the trip type's file of it; else ValueError naming the type's months."""
    from taxi_flows.core.layouts import MIRROR, layout_of

    try:
        layout_of(color, MIRROR, month)
    except ValueError as e:
        raise ValueError(f"{e}: pick a month in them, or leave {color} out of params.colors") from e
    return month


def check_published_day(day: dt.date) -> dt.date:
    """day, if it falls in a month the source publishes; else ValueError naming the range."""
    last_day = next_month(LAST_SOURCE_MONTH) - dt.timedelta(days=1)
    if FIRST_SOURCE_MONTH <= day <= last_day:
        return day
    raise ValueError(
        f"{day} is outside the days of the source's months, {FIRST_SOURCE_MONTH} … {last_day}: "
        "pick a logical date in them"
    )
