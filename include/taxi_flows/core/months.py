"""Month arithmetic: a run's month is the first day of a month (YYYY-MM-01)."""

from __future__ import annotations

import datetime as dt


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
