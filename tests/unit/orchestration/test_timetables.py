"""The bundle's timetables: for every kind of run (scheduled, catch-up, backfill, manual) the
logical date is the first day of the month loaded, the data interval that month; per day for the
daily DAG. The scheduler's own paths through the timetables are in tests/e2e."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from airflow.timetables.base import TimeRestriction

from taxi_flows import settings
from taxi_flows.orchestration import dag_defaults
from taxi_flows.orchestration.timetables import SourcePeriodsTimetable

EARLIEST = pendulum.datetime(1970, 1, 1, tz="UTC")


def utc(text: str):
    return pendulum.parse(text).in_timezone("UTC")


def runs(timetable, earliest=EARLIEST, latest=None, catchup=True, last=None) -> list[tuple[str, str, str]]:
    """(logical date, interval start, interval end) of every run the scheduler would create."""
    out, restriction = [], TimeRestriction(earliest=earliest, latest=latest, catchup=catchup)
    while info := timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction):
        out.append((f"{info.logical_date:%Y-%m-%d}", *(f"{d:%Y-%m-%d}" for d in info.data_interval)))
        last = info.data_interval
    return out


@pytest.fixture(autouse=True)
def now(monkeypatch):
    """The present, for the open schedules: 2026-12-02 (2026-11 is the latest month ended)."""
    from taxi_flows.orchestration import timetables

    monkeypatch.setattr(timetables, "_now", lambda: pendulum.datetime(2026, 12, 2, 8, tz="UTC"))


def test_catch_up_runs_each_month_since_2019_over_that_month_up_to_the_present():
    timetable = dag_defaults.monthly_timetable()
    got = runs(timetable, latest=utc("2026-11-01"))
    assert len(got) == 95  # 2019-01 … 2026-11
    assert got[0] == ("2019-01-01", "2019-01-01", "2019-02-01")
    assert got[23] == ("2020-12-01", "2020-12-01", "2021-01-01")
    assert got[-1] == ("2026-11-01", "2026-11-01", "2026-12-01")
    assert all(logical == start for logical, start, _ in got)
    # The month that has not ended is the next run; the scheduler starts it once it ends (run_after).
    info = timetable.next_dagrun_info(
        last_automated_data_interval=timetable.interval(dt.date(2026, 11, 1)),
        restriction=TimeRestriction(earliest=EARLIEST, latest=None, catchup=True),
    )
    assert (info.logical_date, info.run_after) == (utc("2026-12-01"), utc("2027-01-01"))
    # A month that has ended is due from its start, which names its run (a backfill's run id, "Latest Run").
    info = timetable.next_dagrun_info(
        last_automated_data_interval=None,
        restriction=TimeRestriction(earliest=utc("2021-01-01"), latest=utc("2021-02-01"), catchup=True),
    )
    assert (info.logical_date, info.run_after) == (utc("2021-01-01"), utc("2021-01-01"))


def test_a_scheduled_run_without_catch_up_is_the_latest_month_that_has_ended():
    timetable = dag_defaults.monthly_timetable()
    got = runs(timetable, catchup=False, latest=utc("2026-12-01"))
    assert got == [("2026-11-01", "2026-11-01", "2026-12-01"), ("2026-12-01", "2026-12-01", "2027-01-01")]
    # After a run of 2021-06 (a DAG paused for years, unpaused) the next is the latest ended month.
    june = timetable.interval(dt.date(2021, 6, 1))
    assert runs(timetable, catchup=False, last=june, latest=utc("2026-11-01"))[0][0] == "2026-11-01"


def test_a_schedule_with_a_last_month_ends_there():
    """TAXI_SCHEDULE_LAST_MONTH (the local stack's 2021-07): catch-up over 31 months, then none."""
    timetable = SourcePeriodsTimetable(settings.FIRST_SOURCE_MONTH, dt.date(2021, 7, 1))
    got = runs(timetable)
    assert len(got) == 31
    assert got[-1] == ("2021-07-01", "2021-07-01", "2021-08-01")
    assert runs(timetable, catchup=False) == [("2021-07-01", "2021-07-01", "2021-08-01")]
    assert timetable.summary == "monthly, 2019-01 … 2021-07"
    assert SourcePeriodsTimetable.deserialize(timetable.serialize()) == timetable


@pytest.mark.parametrize(
    ("text", "month"), [("2021-07", dt.date(2021, 7, 1)), ("", None), (" ", None), ("2021-13", ValueError)]
)
def test_the_schedule_s_last_month_setting(text, month):
    if month is ValueError:
        with pytest.raises(ValueError, match="TAXI_SCHEDULE_LAST_MONTH='2021-13' is not a month: YYYY-MM"):
            settings._month_or_none(text, "TAXI_SCHEDULE_LAST_MONTH")
    else:
        assert settings._month_or_none(text, "TAXI_SCHEDULE_LAST_MONTH") == month


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        ("2021-01-01", "2021-03-01", ["2021-01-01", "2021-02-01", "2021-03-01"]),
        # A backfill from mid-month starts with the next month (a period is run whole or not at all).
        ("2021-01-15", "2021-03-31", ["2021-02-01", "2021-03-01"]),
        ("2021-06-01", "2021-09-01", ["2021-06-01", "2021-07-01", "2021-08-01", "2021-09-01"]),
        # Before the schedule's first month (2019-01): a backfill names any month from the TLC's 2009-01.
        ("2018-11-01", "2019-01-01", ["2018-11-01", "2018-12-01", "2019-01-01"]),
        ("2008-11-01", "2009-02-01", ["2009-01-01", "2009-02-01"]),
    ],
)
def test_a_backfill_runs_the_months_between_its_dates(start, end, months):
    got = runs(dag_defaults.monthly_timetable(), earliest=utc(start), latest=utc(end))
    assert [logical for logical, _, _ in got] == months
    assert all(s == logical for logical, s, _ in got)


@pytest.mark.parametrize(
    ("logical", "interval"),
    [
        ("2021-02-01T00:00:00+00:00", ("2021-02-01", "2021-03-01")),
        ("2021-02-15T10:00:00+00:00", ("2021-02-01", "2021-03-01")),
        ("2020-12-01", ("2020-12-01", "2021-01-01")),
        # Outside the source: an interval all the same; the run's first task fails naming the range.
        ("2026-11-28T09:00:00+00:00", ("2026-11-01", "2026-12-01")),
    ],
)
def test_a_manual_run_covers_the_month_of_its_date(logical, interval):
    got = dag_defaults.monthly_timetable().infer_manual_data_interval(run_after=utc(logical))
    assert tuple(f"{d:%Y-%m-%d}" for d in got) == interval


def test_the_daily_timetable_runs_each_day_over_that_day():
    timetable = dag_defaults.daily_timetable()
    got = runs(timetable)
    assert len(got) == 943
    assert got[0] == ("2019-01-01", "2019-01-01", "2019-01-02")
    assert got[-1] == ("2021-07-31", "2021-07-31", "2021-08-01")
    assert runs(timetable, catchup=False) == [("2021-07-31", "2021-07-31", "2021-08-01")]
    backfill = runs(timetable, earliest=utc("2021-01-30"), latest=utc("2021-02-01"))
    assert [r[0] for r in backfill] == ["2021-01-30", "2021-01-31", "2021-02-01"]
    manual = timetable.infer_manual_data_interval(run_after=utc("2021-02-01T13:00:00+00:00"))
    assert tuple(f"{d:%Y-%m-%d}" for d in manual) == ("2021-02-01", "2021-02-02")
    opened = SourcePeriodsTimetable(settings.FIRST_SOURCE_MONTH, None, "day")
    assert runs(opened, catchup=False, latest=utc("2026-12-01")) == [("2026-12-01", "2026-12-01", "2026-12-02")]


def test_a_scheduled_or_backfill_run_is_named_by_the_month_it_loads():
    from airflow.utils.types import DagRunType

    timetable = dag_defaults.monthly_timetable()
    january = timetable.interval(dt.date(2021, 1, 1))
    for run_type in (DagRunType.SCHEDULED, DagRunType.BACKFILL_JOB):
        run_id = timetable.generate_run_id(
            run_type=run_type, run_after=january.end, logical_date=january.start, data_interval=january
        )
        assert run_id == f"{run_type.value}__2021-01-01T00:00:00+00:00"
    # Manual runs keep Airflow's own names (by their own date): two manual runs of a month differ.
    from airflow.timetables.base import Timetable

    args = {"run_type": DagRunType.MANUAL, "run_after": january.end, "logical_date": january.end}
    assert timetable.generate_run_id(**args, data_interval=january) == Timetable.generate_run_id(
        timetable, **args, data_interval=january
    )


def test_the_ui_shows_the_range():
    assert dag_defaults.monthly_timetable().summary == "monthly, 2019-01 … now (each month once it has ended)"
    assert dag_defaults.daily_timetable().summary == "daily, 2019-01-01 … 2021-07-31"


def test_it_survives_airflow_s_serialization_through_the_plugin():
    """The dag-processor stores the DAG serialized; the scheduler and the api-server read it back.
    A custom timetable must be registered by a plugin (plugins/taxi_flows_plugin.py) for that."""
    from airflow.models import DagBag

    from taxi_flows.orchestration.compat import serialize_dag_roundtrip

    dags = DagBag(dag_folder=str(settings_dags())).dags
    for dag_id in ("taxi_web_to_postgres", "taxi_daily_trips_to_gcs"):
        timetable = serialize_dag_roundtrip(dags[dag_id]).timetable
        assert isinstance(timetable, SourcePeriodsTimetable)
        assert timetable == dags[dag_id].timetable
    # taxi_gcs_to_bigquery: the months' timetable inside the Asset-or-time schedule.
    inner = serialize_dag_roundtrip(dags["taxi_gcs_to_bigquery"]).timetable.timetable
    assert inner == dag_defaults.monthly_timetable()
    assert (inner.first, inner.last) == (settings.FIRST_SOURCE_MONTH, None)


def settings_dags():
    from pathlib import Path

    return Path(__file__).resolve().parents[3] / "dags"


@pytest.mark.parametrize(
    ("logical", "message"),
    [
        (
            "2021-01-15T00:00:00+00:00",
            "pick the month in the trigger form's month field .* or set the logical date to "
            "2021-01-01 00:00 UTC, the start of 2021-01",
        ),
        # 2021-02-01 00:00 picked in a browser in Paris: January 31st, 23:00 UTC.
        ("2021-02-01T00:00:00+01:00", "2021-01-31 23:00 UTC is not the start of a period"),
    ],
)
def test_a_run_whose_logical_date_is_not_its_month_s_start_fails_naming_the_date_to_pick(logical, message):
    from taxi_flows.orchestration.compat import AirflowFailException
    from taxi_flows.orchestration.runs import day_of, month_of

    with pytest.raises(AirflowFailException, match=message):
        month_of(dt.datetime.fromisoformat(logical))
    assert month_of(dt.datetime.fromisoformat("2021-02-01T01:00:00+01:00")) == dt.date(2021, 2, 1)
    assert day_of(dt.datetime.fromisoformat("2021-01-15T00:00:00+00:00")) == dt.date(2021, 1, 15)
    with pytest.raises(
        AirflowFailException, match=r"period: set the logical date to 2021-01-15 00:00 UTC, the start of 2021-01-15$"
    ):
        day_of(dt.datetime.fromisoformat("2021-01-15T05:00:00+00:00"))


def test_a_manual_run_loads_the_month_picked_in_the_form_whatever_its_logical_date():
    from taxi_flows.orchestration.compat import AirflowFailException
    from taxi_flows.orchestration.runs import run_month

    now = dt.datetime(2026, 12, 7, 13, 5, tzinfo=dt.UTC)  # the trigger form's default logical date
    assert run_month(now, {"month": "2021-04"}, "manual", "green") == dt.date(2021, 4, 1)
    assert run_month(dt.datetime(2021, 3, 1, tzinfo=dt.UTC), {"month": None}, "backfill") == dt.date(2021, 3, 1)
    with pytest.raises(AirflowFailException, match=r"fhvhv 2019-01 is not in either source's fhvhv months"):
        run_month(now, {"month": "2019-01"}, "manual", "fhvhv")
    with pytest.raises(
        AirflowFailException, match=r"params.month \(2021-04\) picks the month of a run triggered by hand"
    ):
        run_month(dt.datetime(2021, 3, 1, tzinfo=dt.UTC), {"month": "2021-04"}, "backfill")


def test_the_month_param_offers_the_sources_months_newest_first():
    from taxi_flows.core import source
    from taxi_flows.orchestration.dag_defaults import month_param

    param = month_param()
    months = param.schema["enum"][1:]
    assert param.value is None
    assert param.schema["enum"][0] is None
    assert months[0] == source.months_newest_first()[0]
    assert months[-1] == "2009-01"
    assert months == sorted(months, reverse=True)
    # Each type's months, once (a label per month doubled the DAG files' parse time).
    assert "yellow: the mirror 2019-01 … 2021-07, the TLC from 2009-01;" in param.description
    assert "fhvhv: the mirror 2019-02 … 2021-07, the TLC from 2019-02" in param.description
    assert list(param.schema["values_display"]) == [None]
