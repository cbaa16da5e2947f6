"""Every DAG file imports cleanly, fast, and follows the bundle's policies."""

from __future__ import annotations

import datetime as dt
import functools
import re
import subprocess
import sys
from pathlib import Path

import pytest

from taxi_flows import settings
from taxi_flows.orchestration import dag_defaults

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p.name for p in DAGS_DIR.glob("*.py"))
DAG_IDS = [
    "check_connections",
    "taxi_daily_trips_to_gcs",
    "taxi_gcs_to_bigquery",
    "taxi_reconcile",
    "taxi_web_to_gcs",
    "taxi_web_to_postgres",
]
# Modules a DAG file must not import at parse time (the dag-processor parses every file often).
HEAVY = ("pandas", "pyarrow", "numpy", "psycopg", "psycopg2", "requests", "google.cloud")
# The bundle's modules that do the work: imported by the tasks, on the worker, never by a DAG file.
HEAVY += (
    "taxi_flows.core.month_file",
    "taxi_flows.postgres.web_to_postgres",
    "taxi_flows.gcs.web_to_gcs",
    "taxi_flows.gcs.daily",
)


@pytest.fixture(scope="module")
def dagbag():
    from airflow.models import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_the_bundle_has_its_dags(dagbag):
    assert sorted(dagbag.dag_ids) == DAG_IDS


def providers_of(dag_file: str) -> tuple[str, ...]:
    text = (DAGS_DIR / dag_file).read_text()
    return tuple(sorted(set(re.findall(r"^from (airflow\.providers\.[\w.]+) import", text, re.MULTILINE))))


# In a fresh interpreter: import what Airflow's authoring API (taxi_flows.orchestration.compat imports
# it, whatever the version) and the provider operators import anyway; then, for each DAG file, a
# forked child (the same state as a fresh interpreter that imported them) imports the file and
# prints the HEAVY modules it added. One interpreter per set of providers: each costs seconds.
HEAVY_PROBE = """
import importlib, importlib.util, os, sys
for module in ["taxi_flows.orchestration.compat", "airflow.timetables.interval", "pendulum", *{providers!r}]:
    importlib.import_module(module)
for path in {paths!r}:
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        before = set(sys.modules)
        spec = importlib.util.spec_from_file_location("dag_under_test", path)
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        heavy = {heavy!r}
        added = [m for m in set(sys.modules) - before if any(m == h or m.startswith(h + ".") for h in heavy)]
        print("HEAVY:" + os.path.basename(path) + ":" + ",".join(sorted(added)), flush=True)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        print("FAILED:" + os.path.basename(path), flush=True)
"""


@functools.cache
def heavy_imports(providers: tuple[str, ...]) -> dict[str, str]:
    """{DAG file: the HEAVY modules it imports at parse time, comma-separated} for the files of these providers."""
    paths = [str(DAGS_DIR / f) for f in DAG_FILES if providers_of(f) == providers]
    code = HEAVY_PROBE.format(providers=list(providers), paths=paths, heavy=HEAVY)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    found = dict(line.split(":", 2)[1:] for line in result.stdout.splitlines() if line.startswith("HEAVY:"))
    assert len(found) == len(paths), f"{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    return found


@pytest.mark.parametrize("dag_file", DAG_FILES)
def test_a_dag_file_imports_nothing_heavy(dag_file):
    """Import the file as the dag-processor would, after what Airflow's authoring API and the
    provider operators it uses import anyway: the file itself (and the bundle's code it imports)
    must add none of HEAVY."""
    assert heavy_imports(providers_of(dag_file))[dag_file] == "", f"imported at parse time: {dag_file}"


# Cloud Composer parses every DAG file every half minute, each in a fresh process: a file may take
# at most PARSE_RATIO times a minimal one-task TaskFlow DAG. Each file is timed in a child forked
# from one interpreter that imported Airflow's authoring API only (what every DAG file needs), so
# the bundle's and the providers' imports count; the best of PARSE_TRIES, against the minimal DAG's
# best in the same interpreter (a ratio: the machine's speed and load cancel out), the bytecode
# cached as a dag-processor's is (PYTHONDONTWRITEBYTECODE, set on this project's machines, would
# have every try compile the bundle's modules).
PARSE_RATIO = 6
PARSE_TRIES = 9
MINIMAL_DAG = """
import pendulum
from taxi_flows.orchestration.compat import dag, task

@dag(dag_id="minimal", schedule=None, start_date=pendulum.datetime(2021, 1, 1, tz="UTC"))
def minimal():
    @task
    def one():
        return 1

    one()

minimal()
"""
PARSE_PROBE = """
import importlib.util, os, sys, time, warnings
# Bytecode cached (as a dag-processor's is) in a directory of the test's: the first try compiles.
sys.dont_write_bytecode, sys.pycache_prefix = False, {cache!r}
warnings.simplefilter("ignore")
import pendulum
import taxi_flows.orchestration.compat
best = {{}}
for _ in range({tries}):  # the files in turn, each try: a burst of load weighs on all of them alike
    for path in {paths!r}:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            start = time.perf_counter()
            spec = importlib.util.spec_from_file_location("dag_under_test", path)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
            os.write(write, repr(time.perf_counter() - start).encode())
            os._exit(0)
        os.close(write)
        _, status = os.waitpid(pid, 0)
        took = os.read(read, 100)
        os.close(read)
        assert status == 0 and took, path
        best[path] = min(best.get(path, 1e9), float(took))
for path, took in best.items():
    print("PARSE:" + os.path.basename(path) + ":" + repr(took), flush=True)
"""


@functools.cache
def parse_times(tmp: Path) -> dict[str, float]:
    minimal = tmp / "minimal_dag.py"
    minimal.write_text(MINIMAL_DAG)
    paths = [str(minimal), *(str(DAGS_DIR / f) for f in DAG_FILES)]
    code = PARSE_PROBE.format(paths=paths, tries=PARSE_TRIES, cache=str(tmp / "pycache"))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return {
        line.split(":")[1]: float(line.split(":")[2]) for line in result.stdout.splitlines() if line[:6] == "PARSE:"
    }


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> dict[str, float]:
    return parse_times(tmp_path_factory.mktemp("parse"))


@pytest.mark.parametrize("dag_file", DAG_FILES)
def test_a_dag_file_parses_within_a_few_times_a_minimal_dag(parsed, dag_file):
    ratio = parsed[dag_file] / parsed["minimal_dag.py"]
    assert ratio <= PARSE_RATIO, (
        f"{dag_file} parses in {parsed[dag_file] * 1000:.1f} ms, {ratio:.1f}x a minimal TaskFlow DAG "
        f"({parsed['minimal_dag.py'] * 1000:.1f} ms): move imports into the tasks"
    )


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_policies(dagbag, dag_id):
    dag = dagbag.dags[dag_id]  # from the files: no database
    assert dag.tags, f"{dag_id} has no tags"
    assert set(dag.tags) <= dag_defaults.APPROVED_TAGS, f"{dag_id}: tags outside {sorted(dag_defaults.APPROVED_TAGS)}"
    assert len(dag.doc_md or "") > 200, f"{dag_id} needs a doc_md"
    assert dag.start_date.year < 2025, f"{dag_id}: start_date must be a fixed date"
    for task in dag.tasks:
        where = f"{dag_id}.{task.task_id}"
        assert task.retries >= 2, f"{where}: retries {task.retries} < 2"
        assert task.execution_timeout is not None, f"{where}: no execution_timeout"
        assert task.owner == dag_defaults.DEFAULT_ARGS["owner"], where
        assert task.on_failure_callback, f"{where}: no on_failure_callback"


def test_loads_into_postgres_share_the_pool(dagbag):
    dag = dagbag.dags["taxi_web_to_postgres"]
    assert dag.get_task("load_trips").pool == settings.POSTGRES_POOL
    assert dag.get_task("load_zone_lookup").pool == settings.POSTGRES_POOL


def scheduled_days(dag) -> list[dt.date]:
    """The days of the runs the scheduler creates on catch-up, up to the latest period that has ended."""
    from airflow.timetables.base import TimeRestriction

    from taxi_flows.orchestration.timetables import _utc

    timetable = getattr(dag.timetable, "timetable", dag.timetable)  # inside an Asset-or-time schedule
    days, last, latest = [], None, _utc(timetable.latest_ended())
    restriction = TimeRestriction(earliest=dag.start_date, latest=latest, catchup=True)
    while info := dag.timetable.next_dagrun_info(last_automated_data_interval=last, restriction=restriction):
        days.append(info.logical_date.date())
        last = info.data_interval
    return days


@pytest.mark.parametrize("dag_id", ["taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery"])
def test_monthly_dags_run_once_per_month_since_2019_up_to_the_present(dagbag, dag_id):
    from taxi_flows.core.months import month_start, months_between

    dag = dagbag.dags[dag_id]
    assert dag.catchup is (dag_id != "taxi_gcs_to_bigquery")
    last_ended = month_start(month_start(dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=1))
    assert scheduled_days(dag) == months_between(settings.FIRST_SOURCE_MONTH, last_ended)
    # No end_date, and a start_date before any date a run may name: a run outside the range gets
    # its task instances, and fails naming the range (tests/integration/orchestration/test_run_inputs.py).
    assert dag.end_date is None
    assert f"{dag.start_date:%Y-%m-%d}" == "1970-01-01"
    assert dag.params["colors"] == ["yellow", "green"]


def test_gcs_tasks_update_their_own_colour_s_assets(dagbag):
    from taxi_flows.orchestration import assets
    from taxi_flows.orchestration.compat import asset_name

    for color in ("yellow", "green"):
        monthly = dagbag.dags["taxi_web_to_gcs"].get_task(f"{color}_to_gcs")
        assert {asset_name(a) for a in monthly.outlets} == {
            asset_name(assets.monthly_parquet(color)),
            asset_name(assets.pickup_date_dataset(color)),
        }
        daily = dagbag.dags["taxi_daily_trips_to_gcs"].get_task(f"{color}_daily_trips")
        assert [asset_name(a) for a in daily.outlets] == [asset_name(assets.daily_trips(color))]


def test_the_daily_dag_runs_once_per_day_of_the_mirror_s_months(dagbag):
    dag = dagbag.dags["taxi_daily_trips_to_gcs"]
    assert dag.catchup is True
    days = scheduled_days(dag)
    assert (len(days), str(days[0]), str(days[-1])) == (943, "2019-01-01", "2021-07-31")
    assert dag.end_date is None


def test_the_accepted_conf_keys_are_the_dags_params(dagbag):
    from taxi_flows.orchestration.runs import ACCEPTED_CONF_KEYS

    for dag_id, dag in dagbag.dags.items():
        if dag.params:
            assert set(dag.params) <= set(ACCEPTED_CONF_KEYS), dag_id
            assert "colors" in dag.params, dag_id
    assert set(dagbag.dags["taxi_web_to_postgres"].params) == set(ACCEPTED_CONF_KEYS)
    assert set(dagbag.dags["taxi_web_to_gcs"].params) == set(ACCEPTED_CONF_KEYS)


def _rendered_at_run_time(value) -> bool:
    """A Jinja string, or a value Airflow resolves when it renders (an XComArg, a mapped task
    group's argument)."""
    if isinstance(value, str):
        return "{{" in value
    if isinstance(value, list | tuple):
        return any(_rendered_at_run_time(v) for v in value)
    if isinstance(value, dict):
        return any(_rendered_at_run_time(v) for v in value.values())
    return hasattr(value, "resolve") and hasattr(value, "iter_references")


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_what_operators_render_is_in_their_template_fields(dagbag, dag_id):
    """Every operator argument that is a Jinja template, an XCom or a mapped task group's argument
    sits in a field the operator (of the installed provider release) templates: otherwise it would
    reach the operator as text or as an unresolved MappedArgument. Provider releases differ here
    (GCSToBigQueryOperator templates schema_fields only in recent google providers): each leg of
    the version matrix checks its own."""
    unrendered = []
    for task in dagbag.dags[dag_id].tasks:
        for name, value in vars(task).items():
            if name.startswith("_") or name == "map_index_template":
                continue
            if _rendered_at_run_time(value) and name not in task.template_fields:
                unrendered.append(f"{dag_id}.{task.task_id}.{name} ({type(task).__name__})")
    assert not unrendered, f"not templated by the installed providers: {unrendered}"


def test_every_bigquery_task_runs_after_the_dataset_exists(dagbag):
    """A table created before its dataset fails, and waits for its retry (a minute): on a new
    dataset every run did, for each trip type whose table had no path from create_dataset."""
    dag = dagbag.dags["taxi_gcs_to_bigquery"]
    after = {t.task_id for t in dag.get_task("create_dataset").get_flat_relatives(upstream=False)}
    assert set(dag.task_ids) - after == {"create_dataset", "plan_months"}
