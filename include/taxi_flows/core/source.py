"""Where the source files are: the URL of a trip type's month file and of the zone lookup.

Two sources: the DataTalksClub mirror (the Variable taxi_source_base_url, csv.gz, 2019-2021: the
course's files) and the TLC's Parquet files (the Variable taxi_tlc_base_url). A month is read from
the mirror where it has it, from the TLC otherwise (choose); the months of each trip type in each
source are its layouts' (taxi_flows.core.layouts): the TLC has yellow from 2009, green from 2014,
fhv from 2015, fhvhv from 2019-02.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit, urlunsplit

EARLIEST_MONTH = dt.date(2009, 1, 1)  # the TLC's first month (yellow); green from 2014, fhv 2015, fhvhv 2019-02

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


def tlc_trip_url(base_url: str, color: str, month: dt.date) -> str:
    """<base>/<color>_tripdata_<YYYY>-<MM>.parquet (the TLC's CloudFront, the Variable taxi_tlc_base_url)."""
    return join(base_url, f"{color}_tripdata_{month:%Y-%m}.parquet")


def current_month(now: dt.datetime | None = None) -> dt.date:
    now = now or dt.datetime.now(dt.UTC)
    return dt.date(now.year, now.month, 1)


def months_newest_first(now: dt.datetime | None = None) -> list[str]:
    """Every month some source may publish (YYYY-MM), the last one that has ended first."""
    month, out = current_month(now), []
    while month > EARLIEST_MONTH:
        month = (month - dt.timedelta(days=1)).replace(day=1)
        out.append(f"{month:%Y-%m}")
    return out


def type_months() -> str:
    """Which months each trip type has, and from where, in one sentence (the trigger form's Month
    says it once: a label per month would make every DAG file parse twice as slowly)."""
    from taxi_flows.core.layouts import MIRROR, TLC, months_of
    from taxi_flows.core.schema import COLORS

    def span(color: str, name: str) -> str | None:
        found = months_of(color, name)
        if found is None:
            return None
        return f"{found[0]:%Y-%m} … {found[1]:%Y-%m}" if found[1] else f"from {found[0]:%Y-%m}"

    parts = []
    for color in COLORS:
        where = [
            f"the {label} {found}" for label, name in (("mirror", MIRROR), ("TLC", TLC)) if (found := span(color, name))
        ]
        parts.append(f"{color}: {', '.join(where)}")
    return "; ".join(parts) + " (a month the mirror has is read from it)"


def check_published(month: dt.date) -> dt.date:
    """month (YYYY-MM-01), if it is one some source may publish: from EARLIEST_MONTH (the TLC's first,
    yellow 2009-01) to the last month that has ended; else ValueError saying why."""
    if month < EARLIEST_MONTH:
        raise ValueError(
            f"{month:%Y-%m} is before the first month of any source ({EARLIEST_MONTH:%Y-%m}, the TLC's first yellow "
            "file): pick a later logical date (YYYY-MM-01 loads month YYYY-MM)"
        )
    if month >= current_month():
        raise ValueError(
            f"{month:%Y-%m} has not ended yet: no source has its trips (the TLC publishes a month about two months "
            "after it ends); pick an earlier logical date (YYYY-MM-01 loads month YYYY-MM)"
        )
    return month


def choose(color: str, month: dt.date, forced: str | None = None) -> str:
    """The source a trip type's month is read from: the mirror where it has the month (the course's
    files and counts), the TLC otherwise; `forced` (the run's conf key source) picks one. ValueError
    naming the type's months in each source when the chosen one has none of it."""
    from taxi_flows.core.layouts import MIRROR, SOURCES, TLC, layout_of, months_of

    if forced not in (None, *SOURCES):
        raise ValueError(f"source {forced!r} is not one of {list(SOURCES)} (leave it out to pick by month)")
    for name in [forced] if forced else [MIRROR, TLC]:
        try:
            layout_of(color, name, month)
        except ValueError:
            continue
        return name
    spans = []
    for name in SOURCES:
        span = months_of(color, name)
        if span:
            spans.append(f"{name}: {span[0]:%Y-%m} … {f'{span[1]:%Y-%m}' if span[1] else 'the latest published'}")
    where = f"the {forced} source's" if forced else "either source's"
    raise ValueError(
        f"{color} {month:%Y-%m} is not in {where} {color} months ({'; '.join(spans)}): pick a month in them, "
        f"or leave {color} out of params.colors"
    )


def check_type_month(color: str, month: dt.date, forced: str | None = None) -> dt.date:
    """month, if a source (the forced one, when given) has the trip type's file of it; else ValueError."""
    choose(color, month, forced)
    return month


def check_published_day(day: dt.date) -> dt.date:
    """day, if it falls in a month check_published accepts; else ValueError naming the range."""
    try:
        check_published(dt.date(day.year, day.month, 1))
    except ValueError as e:
        raise ValueError(f"{day} is outside the days of the sources' months: {e}") from e
    return day
