"""The course's questions, answered from what is loaded: the figures of the coverage page's
homework view (coverage.page), from the load summaries taxi_web_to_postgres stores
(coverage.store.read_loads: every row of each file, counted as it was written, with its pickup
dates and the cleaned rows' vendor ids): never a scan of the trips, whatever the period asked.

- Week 2, 2024 cohort (Mage): a colour's quarter (green 2020-Q4): its rows, the rows after the
  course's cleaning (the view <color>_tripdata_clean), the vendor ids, the pickup-date partitions,
  the renamed columns.
- Week 2, 2025/2026 cohorts (Kestra): the rows of a colour's year and of a month, the uncompressed
  size of a month's file, the file name the course's flow renders for it.
- Module 3 (warehouse): yellow 2024-01 … 2024-06, from the TLC's Parquet files (20,332,093 rows).
- Module 4 (dbt): the rows of yellow and green for 2019-2020 and of fhv for 2019.

A figure over months that are not all loaded says which are missing and the backfill command that
loads them; a month loaded by an older version of the bundle (which kept only the cleaned rows)
counts as missing: its run must run again.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from taxi_flows.core.layouts import MIRROR, layout_of
from taxi_flows.core.months import month_start, months_between
from taxi_flows.core.schema import trip_schema

LOADING_DAG = "taxi_web_to_postgres"
MODULE_4_YEARS = {"yellow": (2019, 2020), "green": (2019, 2020), "fhv": (2019,)}  # the years each type loads


@dataclass
class Answer:
    question: str
    value: str
    missing: list[str] = field(default_factory=list)  # months (YYYY-MM) of the figure not loaded
    command: str | None = None  # the backfill that loads them


@dataclass
class Section:
    title: str
    answers: list[Answer]


def every_row(summary: dict) -> bool:
    """The load kept every row of the file (older versions kept the cleaned rows only)."""
    return "rows_clean" in summary


def published(months: list[dt.date], color: str = "yellow") -> list[dt.date]:
    """The months a source has of the trip type (the mirror's or the TLC's), that have ended."""
    from taxi_flows.core.source import check_published, check_type_month

    out = []
    for m in months:
        try:
            out.append(check_type_month(color, check_published(m)))
        except ValueError:
            continue
    return out


def quarter_of(month: dt.date, color: str = "yellow") -> list[dt.date]:
    """The months of month's quarter that a source publishes (green 2013-Q4: none; 2014-Q1: all)."""
    first = dt.date(month.year, 3 * ((month.month - 1) // 3) + 1, 1)
    return published(months_between(first, dt.date(first.year, first.month + 2, 1)), color)


def year_of(month: dt.date, color: str = "yellow") -> list[dt.date]:
    return published(months_between(dt.date(month.year, 1, 1), dt.date(month.year, 12, 1)), color)


def default_period(loads: dict[tuple[str, str], dict]) -> tuple[str, dt.date]:
    """Where the view opens: the latest month loaded with every row (green first on a tie), or the
    2024 homework's green 2020-10 when nothing is."""
    loaded = [(m, c != "green", c) for (c, m), load in loads.items() if every_row(load["summary"])]
    if not loaded:
        return "green", dt.date(2020, 10, 1)
    month, _, color = max(loaded, key=lambda x: (x[0], not x[1]))
    return color, month_start(month)


class Figures:
    """The loads of every colour: what the answers need."""

    def __init__(self, loads: dict[tuple[str, str], dict]):
        self.loads = loads

    def summary(self, color: str, month: dt.date) -> dict | None:
        load = self.loads.get((color, f"{month:%Y-%m}"))
        return load["summary"] if load and every_row(load["summary"]) else None

    def total(self, question: str, color: str, months: list[dt.date], key: str = "rows_written") -> Answer:
        """The sum of a summary figure over months, or what is missing and how to load it."""
        found = {m: s for m in months if (s := self.summary(color, m)) is not None}
        missing = [m for m in months if m not in found]
        value = f"{sum(s[key] for s in found.values()):,}"
        if missing:
            value += f" ({len(found)} of {len(months)} months loaded)"
        return self.answer(question, value, color, missing)

    def answer(self, question: str, value: str, color: str, missing: list[dt.date]) -> Answer:
        if not missing:
            return Answer(question, value)
        from taxi_flows.orchestration.compat import backfill_command

        stale = any((color, f"{m:%Y-%m}") in self.loads for m in missing)
        command = backfill_command(LOADING_DAG, missing[0], missing[-1], [color], "completed" if stale else "failed")
        return Answer(question, value, [f"{m:%Y-%m}" for m in missing], command)

    def union(self, color: str, months: list[dt.date], key: str) -> tuple[set, list[dt.date]]:
        """The union of a list the load summaries store (pickup_dates, clean_vendor_ids) over months,
        and the months without it: not loaded, or loaded by a version that did not store it."""
        found: set = set()
        missing = []
        for m in months:
            values = (self.summary(color, m) or {}).get(key)
            if values is None:
                missing.append(m)
            else:
                found.update(values)
        return found, missing


def week_2_2024(fig: Figures, color: str, month: dt.date) -> Section:
    sch = trip_schema(color)
    months = quarter_of(month, color)
    quarter = f"{month.year}-Q{(month.month - 1) // 3 + 1}"
    vendors, no_vendors = fig.union(color, months, "clean_vendor_ids")
    dates, no_dates = fig.union(color, months, "pickup_dates")
    renamed = [(name, target) for name, target in layout_of(color, MIRROR, month).columns if name != target]
    ids = ", ".join(str(v) for v in sorted(v for v in vendors if v is not None))
    ids = ", ".join(p for p in (ids, "blank" if None in vendors else "") if p) or "—"
    return Section(
        f"Week 2, 2024 cohort (Mage): {color} {quarter}",
        [
            fig.total("rows", color, months),
            fig.total(
                "rows after the course's cleaning (passenger_count > 0 and trip_distance > 0)",
                color,
                months,
                "rows_clean",
            ),
            fig.answer("vendor ids (after the cleaning)", ids, color, no_vendors),
            fig.answer(f"pickup-date partitions ({sch.pickup_date} values)", f"{len(dates):,}", color, no_dates),
            Answer("columns renamed to snake_case", ", ".join(f"{a} → {b}" for a, b in renamed)),
        ],
    )


def week_2_2025(fig: Figures, color: str, month: dt.date) -> Section:
    s = fig.summary(color, month)
    size = s.get("source_uncompressed_bytes") if s else None
    name = f"{color}_tripdata_{month:%Y-%m}.csv"
    return Section(
        "Week 2, 2025 and 2026 cohorts (Kestra)",
        [
            fig.total(f"rows of {color} {month.year}", color, year_of(month, color)),
            fig.total(f"rows of {color} {month:%Y-%m}", color, [month]),
            fig.answer(
                f"uncompressed size of {name}",
                f"{size:,} bytes ({size / 2**20:.1f} MiB)" if size is not None else "—",
                color,
                [] if size is not None else [month],
            ),
            Answer(f"rendered file name of {color} {month:%Y-%m}", name),
        ],
    )


def module_3(fig: Figures) -> Section:
    months = months_between(dt.date(2024, 1, 1), dt.date(2024, 6, 1))
    answer = fig.total("yellow rows, 2024-01 … 2024-06 (the TLC's Parquet files)", "yellow", months)
    return Section("Module 3 (data warehouse): yellow 2024-01 … 2024-06", [answer])


def module_4(fig: Figures) -> Section:
    answers = []
    for color, years in MODULE_4_YEARS.items():
        months = published(months_between(dt.date(years[0], 1, 1), dt.date(years[-1], 12, 1)), color)
        span = f"{years[0]}–{years[-1]}" if len(years) > 1 else f"{years[0]}"
        answers.append(fig.total(f"{color} rows, {span}", color, months))
    return Section("Module 4 (dbt): rows per trip type, yellow and green 2019–2020, fhv 2019", answers)


def sections(loads: dict[tuple[str, str], dict], color: str, month: dt.date) -> list[Section]:
    fig = Figures(loads)
    return [week_2_2024(fig, color, month), week_2_2025(fig, color, month), module_3(fig), module_4(fig)]
