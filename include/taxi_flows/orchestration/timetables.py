"""The bundle's timetables: one run per month (or day) of the source, whose logical date and data
interval name that period whatever made the run.

A run of month M (scheduled, catch-up, backfill, or triggered by hand with a date in M) has the
logical date M-01 00:00 UTC and the data interval [M-01, first day of the next month); the Airflow UI
shows the month the run loads. The daily timetable does the same per day. Runs are scheduled from
settings.FIRST_SOURCE_MONTH up to the present (each period once it has ended), or up to
settings.SCHEDULE_LAST_MONTH when that is set: the range is the timetable's, not the DAG's
start_date or end_date (dag_defaults.EARLIEST says why).

Airflow's scheduler, dag-processor and api-server find these classes through the plugin
plugins/taxi_flows_plugin.py (a custom timetable must be registered by a plugin); the class path
is what the serialized DAG names, so keep it stable.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from airflow.timetables.base import DagRunInfo, DataInterval, Timetable

from taxi_flows.core.months import month_start, next_month
from taxi_flows.settings import DAG_START_DATE

_UNITS = ("month", "day")


def _utc(day: dt.date):
    import pendulum

    return pendulum.datetime(day.year, day.month, day.day, tz="UTC")


class SourcePeriodsTimetable(Timetable):
    """One run per month or day from `first` to `last` (dates; `last` included; None: up to the
    present, each period once it has ended), at the period's start, over the period: data interval
    [start of the period, start of the next). A backfill may also name periods from `floor` (the
    sources' first month) on: catch-up starts at `first`."""

    periodic = True
    # Runs in the order of the periods they load (the UI's grid, the scheduler's choice).
    run_ordering = ("logical_date", "data_interval_end")

    def __init__(
        self, first: dt.date, last: dt.date | None = None, unit: str = "month", floor: dt.date | None = None
    ) -> None:
        if unit not in _UNITS:
            raise ValueError(f"unit must be one of {_UNITS}, not {unit!r}")
        self.unit = unit
        self.first = self.start_of(first)
        self.floor = min(self.first, self.start_of(floor or first))
        self.last = None if last is None else self.start_of(last)
        every = "monthly" if unit == "month" else "daily"
        until = self._label(self.last) if self.last else f"now (each {unit} once it has ended)"
        self.description = f"{every}, {self._label(self.first)} … {until}"

    # The period arithmetic, on dates.
    def start_of(self, value: dt.date | dt.datetime) -> dt.date:
        if isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).date() if value.tzinfo else value.date()
        return month_start(value) if self.unit == "month" else value

    def after(self, start: dt.date) -> dt.date:
        return next_month(start) if self.unit == "month" else start + dt.timedelta(days=1)

    def before(self, start: dt.date) -> dt.date:
        return self.start_of(start - dt.timedelta(days=1))

    def _label(self, start: dt.date) -> str:
        return f"{start:%Y-%m}" if self.unit == "month" else start.isoformat()

    def latest_ended(self) -> dt.date:
        """The last period that has ended by now (within the range)."""
        ended = self.before(self.start_of(_now()))
        return ended if self.last is None else min(ended, self.last)

    def interval(self, start: dt.date) -> DataInterval:
        return DataInterval(_utc(start), _utc(self.after(start)))

    # What Airflow asks.
    @property
    def summary(self) -> str:
        return self.description

    def serialize(self) -> dict[str, Any]:
        last = self.last.isoformat() if self.last else None
        return {"first": self.first.isoformat(), "last": last, "unit": self.unit, "floor": self.floor.isoformat()}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> SourcePeriodsTimetable:
        last, floor = (dt.date.fromisoformat(data[k]) if data.get(k) else None for k in ("last", "floor"))
        return cls(dt.date.fromisoformat(data["first"]), last, data["unit"], floor)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourcePeriodsTimetable) and self.serialize() == other.serialize()

    def __hash__(self) -> int:
        return hash(tuple(self.serialize().values()))

    def validate(self) -> None:
        if self.last is not None and self.last < self.first:
            raise ValueError(f"the timetable's last {self.unit} {self.last} is before its first {self.first}")

    def generate_run_id(self, *, run_type, data_interval=None, **extra) -> str:
        """scheduled__2021-01-01T00:00:00+00:00 for January: runs are named by the period they load
        (Airflow 3 names them by when they may run, the interval's end)."""
        from taxi_flows.orchestration.compat import run_id

        if data_interval is None or getattr(run_type, "value", run_type) not in ("scheduled", "backfill"):
            # Manual runs keep Airflow's names (two manual runs of one month must not collide).
            return super().generate_run_id(run_type=run_type, data_interval=data_interval, **extra)
        return run_id(run_type, data_interval.start)

    def infer_manual_data_interval(self, *, run_after) -> DataInterval:
        """A run triggered by hand for a date covers the period of that date (outside the source's
        range too: its first task then fails, naming the range)."""
        return self.interval(self.start_of(run_after))

    def next_dagrun_info(self, *, last_automated_data_interval, restriction) -> DagRunInfo | None:
        """The period after the last automated run's (the first period when there is none), not
        before restriction.earliest (the DAG's start_date, a backfill's start: a backfill from a
        period between `floor` and `first` starts there, catch-up from the start_date at `first`), not after
        restriction.latest or the last period (of an open range, the scheduler starts a run once its
        period has ended: its run_after). Without catchup, the latest period that has ended."""
        last, first = last_automated_data_interval, self.first
        if restriction.earliest is not None and restriction.earliest > _utc(DAG_START_DATE):
            first = self.floor  # a backfill, which names its dates (catch-up's earliest is the start_date)
        start = first if last is None else self.start_of(last.end)
        if restriction.earliest is not None:
            earliest = self.start_of(restriction.earliest)
            if _utc(earliest) < restriction.earliest:  # a period that started before earliest is not run
                earliest = self.after(earliest)
            start = max(start, earliest)
        if not restriction.catchup:
            start = max(start, self.latest_ended())
        start = max(start, first)
        if self.last is not None and start > self.last:
            return None
        if restriction.latest is not None and _utc(start) > restriction.latest:
            return None
        info = DagRunInfo.interval(*self.interval(start))
        if info.data_interval.end <= _now():
            # A period that has ended may run at once: its run is due from its start, which names it
            # (a backfill's run id on Airflow 3, the UI's "Latest Run") rather than the next period's.
            info = info._replace(run_after=info.data_interval.start)
        return info


def _now():
    import pendulum

    return pendulum.now("UTC")


def monthly(first: dt.date, last: dt.date | None = None, floor: dt.date | None = None) -> SourcePeriodsTimetable:
    return SourcePeriodsTimetable(first, last, "month", floor)


def daily(first: dt.date, last: dt.date | None = None, floor: dt.date | None = None) -> SourcePeriodsTimetable:
    return SourcePeriodsTimetable(first, last, "day", floor)
