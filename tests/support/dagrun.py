"""Helpers of the integration tests that run DAGs through Airflow (dag.test) and write source files."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from taxi_dev import sample_data
from taxi_flows.core.months import month_start

PACKAGE_LOGGER = "taxi_flows"  # the root logger of the bundle's code: whichever module logs


@contextmanager
def log_messages(level: int = logging.INFO) -> Iterator[list[str]]:
    """The messages the bundle's code logs meanwhile, from any of its modules (the task runs in
    this process): the handler sits on the package's root logger, so moving a function between
    modules does not hide its messages."""
    messages: list[str] = []
    handler = logging.Handler(level=level)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger = logging.getLogger(PACKAGE_LOGGER)
    logger.addHandler(handler)
    try:
        yield messages
    finally:
        logger.removeHandler(handler)


_SERIALIZED: list[bool] = []


def load_dag(stack, dag_id: str):
    """The DAG from the DAGs folder, with every DAG of the folder in the metadata database first (once
    a session), as the dag-processor would have written them: Airflow 2 records a Dataset event only
    for a Dataset it knows there, and Airflow 3.1's dag.test() needs the DAG serialized."""
    from airflow.models import DagBag

    if not _SERIALIZED:
        stack.airflow("dags", "reserialize", quiet=True)
        _SERIALIZED.append(True)
    bag = DagBag(dag_folder=str(stack.s.dags_folder))
    assert not bag.import_errors
    return bag.get_dag(dag_id)


def dag_test(dag, logical_date: dt.datetime | None, conf: dict):
    """dag.test() for one logical date, whatever the Airflow version (Airflow 2 names it
    execution_date)."""
    from taxi_flows.orchestration.compat import AIRFLOW_3

    if AIRFLOW_3:
        _one_in_process_api()
        return dag.test(logical_date=logical_date, run_conf=conf)
    # Airflow 2's dag.test() deletes an earlier run of the date, whose note refers to the FAB
    # users table: its model must be known to SQLAlchemy (the webserver imports it; a test does not).
    import airflow.providers.fab.auth_manager.models  # noqa: F401

    return dag.test(execution_date=logical_date, run_conf=conf)


def _one_in_process_api() -> None:
    """Airflow 3.1's dag.test() builds a new in-process Execution API (a Cadwyn app: about a second
    of CPU) for every task, and 3.1's integration tests took 9 minutes; later releases build it
    once (functools.lru_cache on supervisor.in_process_api_server). The harness does the same on
    the releases that do not. Tests only: a deployment's tasks talk to the api-server."""
    import functools

    from airflow.sdk.execution_time import supervisor

    if not hasattr(supervisor.in_process_api_server, "cache_info"):
        supervisor.in_process_api_server = functools.lru_cache(maxsize=1)(supervisor.in_process_api_server)


def run(dag, date: str | None, colors=("yellow", "green"), **conf):
    """Run the DAG for a month ("YYYY-MM": logical date YYYY-MM-01) or a day ("YYYY-MM-DD"), or
    with no logical date (None: Airflow 3); conf: more keys of the run's conf.
    Return the run and {(task_id, map index or -1): (state, tries)}."""
    logical_date = None
    if date is not None:
        day = dt.date.fromisoformat(date if len(date) > 7 else f"{date}-01")
        logical_date = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)
    # Every param the DAG takes is in the conf: dag.test() reuses one DAG object, and a value a
    # previous run's conf gave would otherwise stay.
    defaults = {key: None for key in ("month", "source") if key in dag.params}
    dr = dag_test(dag, logical_date, {"colors": list(colors), **defaults, **conf})
    states = {}
    for ti in dr.get_task_instances():
        index = ti.rendered_map_index  # the colour for load_trips; digits for a mapped task group
        key = index if index and not str(index).isdigit() else ti.map_index
        states[(ti.task_id, key)] = (str(ti.state), ti.try_number)
    return dr, states


def gz_csv(header: list[str], rows: list[list]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in r] for r in rows)
    return gzip.compress(text.getvalue().encode())


def sample_rows(color: str, month: str, n: int) -> tuple[list[str], list[list]]:
    table = sample_data.trips_table(color, month_start(month), n)
    return table.column_names, [list(r.values()) for r in table.to_pylist()]


def expected_clean(rows: list[list], header: list[str]) -> int:
    """The course's cleaning, computed independently of the bundle's code: passengers > 0, distance > 0
    (the rows of the views <color>_tripdata_clean; the tables hold every row)."""
    p, d = header.index("passenger_count"), header.index("trip_distance")
    return sum(
        1 for r in rows if r[p] not in (None, "") and int(r[p]) > 0 and r[d] not in (None, "") and float(r[d]) > 0
    )


def raw_quirks(rows: list[list], header: list[str]) -> dict[str, int]:
    """How many rows of a file the course's cleaning removes, by kind: the blank tail (blank
    passenger_count), zero passengers, zero distances. Sample files have all three."""
    p, d = header.index("passenger_count"), header.index("trip_distance")
    return {
        "blank_passenger_count": sum(1 for r in rows if r[p] in (None, "")),
        "zero_passenger_count": sum(1 for r in rows if r[p] not in (None, "") and int(r[p]) == 0),
        "zero_trip_distance": sum(1 for r in rows if r[d] not in (None, "") and float(r[d]) == 0),
    }


def _truncated(data: bytes) -> bytes:
    return data[: len(data) * 2 // 3]


def _renamed_header(header, rows):
    return gz_csv([h.replace("PULocationID", "PULocationId") for h in header], rows)


def _wrong_type(header, rows):
    rows[1500][header.index("passenger_count")] = "two"
    return gz_csv(header, rows)


def _unknown_vendors(header, rows):
    for r in rows[:1000]:
        r[0] = 9
    return gz_csv(header, rows)


def _dates_only(header, rows):
    """Format drift that still parses: the times lose their time of day (every trip lasts 0 s)."""
    for name in ("tpep_pickup_datetime", "tpep_dropoff_datetime"):
        i = header.index(name)
        for r in rows:
            r[i] = r[i].date()
    return gz_csv(header, rows)


def _swapped_times(header, rows):
    """Pickup and dropoff columns swapped: every dropoff is before its pickup."""
    p, d = header.index("tpep_pickup_datetime"), header.index("tpep_dropoff_datetime")
    for r in rows:
        r[p], r[d] = r[d], r[p]
    return gz_csv(header, rows)


def _set(name: str, value, every: int = 1, first: int = 0):
    """Every `every`-th row (from `first`) gets value in column name."""

    def make(header, rows):
        i = header.index(name)
        for r in rows[first::every]:
            r[i] = value
        return gz_csv(header, rows)

    return make


def _pickups_without_times(header, rows):
    """The pickups lose their time of day; the dropoffs keep theirs."""
    i = header.index("tpep_pickup_datetime")
    for r in rows:
        r[i] = r[i].date()
    return gz_csv(header, rows)


def _negative_fares(header, rows):
    i = header.index("fare_amount")
    for r in rows:
        r[i] = -abs(r[i] or 1.0) or -1.0
    return gz_csv(header, rows)


def _nul_in_text(header, rows):
    """A NUL byte in a text field (store_and_fwd_flag) of one row."""
    i = header.index("store_and_fwd_flag")
    next(r for r in rows[1000:] if r[i] == "N")[i] = "N\x00"
    return gz_csv(header, rows)


def _absurd_value(name: str):
    def make(header, rows):
        clean = [r for r in rows[1200:] if expected_clean([r], header)]  # a row the course's cleaning keeps
        clean[0][header.index(name)] = 99_999_999_999
        return gz_csv(header, rows)

    return make


# What the file becomes, and what the task's error says.
BAD_INPUTS = {
    "truncated gzip": (lambda h, r: _truncated(gz_csv(h, r)), "gzip stream from .* is truncated"),
    "not gzip": (lambda h, r: b"VendorID,tpep_pickup_datetime\n1,2\n", "is not gzip-compressed"),
    "html page": (lambda h, r: b"<!DOCTYPE html>\n<html><body>Error</body></html>", "answered with an HTML page"),
    "changed header": (_renamed_header, r"header does not match .*missing \['PULocationID'\]"),
    "wrong types": (_wrong_type, "does not parse with the yellow schema's types.*'two'"),
    "failed quality checks": (_unknown_vendors, "fails its data-quality checks: .* vendor_id other than 1, 2, 6, 7"),
    "header only": (lambda h, r: gz_csv(h, []), "yellow 2021-03: the file has a header line and no rows"),
    "dates without times": (_dates_only, "a pickup at exactly 00:00:00 in [0-9,]+ of"),
    "dropoff before pickup": (_swapped_times, "a dropoff before the pickup in [0-9,]+ of"),
    "absurd passenger_count": (
        _absurd_value("passenger_count"),
        r"passenger_count above 9 in 1 of [0-9,]+ rows \(.*; a real month has none\)",
    ),
    "zone id not in the lookup": (_absurd_value("PULocationID"), "not in the zone lookup in 1 of"),
    "NaN fares": (_set("fare_amount", "nan", every=500), r"fare_amount: 6 values that are NaN or infinite"),
    "infinite distances": (
        _set("trip_distance", "inf", every=1000),
        r"trip_distance: 3 values that are NaN or infinite",
    ),
    "dropoffs in 2099": (
        _set("tpep_dropoff_datetime", dt.datetime(2099, 3, 1, 12), every=100),
        r"a pickup or dropoff after the moment of the load in 30 of 3,000 rows \(1.00%; maximum 0.1%\)",
    ),
    "pickups without times": (_pickups_without_times, r"a pickup at exactly 00:00:00 in 3,000 of 3,000 rows"),
    "every fare negative": (
        _negative_fares,
        r"a negative fare_amount in 3,000 of 3,000 rows \(100.00%; maximum 5.0%\)",
    ),
    "a NUL byte in text": (_nul_in_text, r"store_and_fwd_flag: a NUL byte in 1 of its values"),
    "a line that never ends": (
        lambda h, r: gzip.compress(b",".join(x.encode() for x in h) + b"\n1," + b"9" * (3 << 20)),
        r"a line is longer than 1 MiB",
    ),
    "no line at all": (lambda h, r: gzip.compress(b"V" * (3 << 20)), r"the first line is longer than 64 KiB"),
    # The whole release is missing: the month's file (GCS) or, first, the zone lookup (PostgreSQL).
    "404": (
        None,
        r"(yellow 2021-03|taxi zone lookup): the source file does not exist \(404 Not Found\): http.*/no-such-release/",
    ),
}


# The cases of the second fault campaign exercise the parse and the checks (the bundle's code and
# pyarrow): they run on the legs where pyarrow differs, the first campaign's on every leg.
ROUND_2 = (
    "NaN fares",
    "infinite distances",
    "dropoffs in 2099",
    "pickups without times",
    "every fare negative",
    "a NUL byte in text",
    "a line that never ends",
    "no line at all",
)


def bad_input_params(names: list[str] | None = None) -> list:
    """BAD_INPUTS names (all by default) as pytest parameters, ROUND_2's marked depends_on("arrow")."""
    import pytest

    names = list(BAD_INPUTS) if names is None else names
    return [pytest.param(n, marks=pytest.mark.depends_on("arrow")) if n in ROUND_2 else n for n in names]


@dataclass
class BadRun:
    """A good month loaded, then the same month run again on bad input."""

    before: Any  # snapshot() after the good load
    run: Any  # the failed DagRun
    states: dict  # its task states, as run() returns them
    messages: list[str]  # what the bundle's code logged during the bad run
    expected_error: str  # the regular expression the task's error must match (BAD_INPUTS)

    def logged_the_error(self) -> bool:
        return any(re.search(self.expected_error, m) for m in self.messages)


# {DAG id: snapshot() after its last good load in good_then_bad}: a target still in that state holds
# the good month, and its next bad run needs no new good load first.
_GOOD_LOADS: dict[str, Any] = {}


def good_then_bad(dag, serve, monkeypatch, base_url: str, bad: str, snapshot: Callable[[], Any]) -> BadRun:
    """Load a good yellow 2021-03 through dag, take snapshot(), then run dag again on the bad input
    (BAD_INPUTS[bad]). The good load is skipped when the target is exactly as the previous good load
    left it (the bad runs between left it unchanged: what they check): a load less per case."""
    header, rows = sample_rows("yellow", "2021-03", 3000)
    serve("yellow", "2021-03", gz_csv(header, rows))
    try:
        before = snapshot()
    except Exception:  # no target yet (the table, say)
        before = None
    if before is None or _GOOD_LOADS.get(dag.dag_id) != before:
        assert run(dag, "2021-03", ["yellow"])[0].state == "success"
        before = _GOOD_LOADS[dag.dag_id] = snapshot()
    make_bad, expected_error = BAD_INPUTS[bad]
    if make_bad is None:
        monkeypatch.setenv("AIRFLOW_VAR_TAXI_SOURCE_BASE_URL", f"{base_url}/no-such-release")
    else:
        serve("yellow", "2021-03", make_bad(header, [list(r) for r in rows]))
    with log_messages() as messages:
        dr, states = run(dag, "2021-03", ["yellow"])
    return BadRun(before, dr, states, messages, expected_error)
