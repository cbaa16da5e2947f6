"""End to end, with the real Airflow components: api-server, scheduler, dag-processor and the
LocalExecutor (parallelism 4 for 2 cores), their metadata in the session's PostgreSQL. The test
starts them (pid files, health checks) and stops them by pid in a `finally`.

1. `airflow backfill create` of two small months of green through taxi_web_to_postgres and
   taxi_web_to_gcs (on Airflow 3.1, whose CLI takes no conf, taxi_web_to_gcs through the REST API
   of the UI's backfill dialog); the Asset events of taxi_web_to_gcs trigger taxi_gcs_to_bigquery; the data in
   PostgreSQL, GCS and BigQuery is checked against the source files; then a backfill of two other
   months through taxi_web_to_gcs, whose BigQuery runs load those two only;
2. Debian's Chromium, driven headless by Playwright, finds every DAG listed with no import error,
   opens a DAG's grid, and saves screenshots.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import urllib.request
from pathlib import Path

import pytest
from packaging.version import Version
from support.e2e import COMPONENT_ENV, expected_rows, month_period, registered_dags, wait_for

from taxi_dev import airflow_meta
from taxi_dev.airflow_meta import dag_runs
from taxi_dev.airflow_meta import task_states as _task_states
from taxi_flows import settings
from taxi_flows.bigquery import queries
from taxi_flows.core.months import month_start
from taxi_flows.gcs import layout, storage
from taxi_flows.orchestration import assets
from taxi_flows.orchestration.compat import AIRFLOW_3, AIRFLOW_VERSION, asset_name

# The real scheduler, the backfill CLI, the UI: what changes between Airflow's minor releases. The
# data code they run is tested on every leg by the integration tests.
pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.depends_on("airflow-release")]
if not AIRFLOW_3:
    pytest.skip(
        f"Airflow {AIRFLOW_VERSION} has no `airflow backfill create`, api-server or dag-processor: "
        "its backfill and Dataset trigger run in test_airflow2.py",
        allow_module_level=True,
    )

DAGS = (
    "taxi_web_to_postgres",
    "taxi_web_to_gcs",
    "taxi_gcs_to_bigquery",
    "taxi_daily_trips_to_gcs",
    "taxi_reconcile",
    "check_connections",
)
# Two months: a backfill of more than one run, each month its own (a third cost CI a minute and a half a leg).
MONTHS = ("2021-01", "2021-02")
# Then two others through taxi_web_to_gcs: the BigQuery runs they trigger load them, and not MONTHS again.
SECOND = ("2021-03", "2021-04")
COLOR = "green"


# Airflow 3.1 stores the rendered fields as rendered (its serialize_template_field redacts a value only
# when it truncates it); 3.3's task runner redacts them with the masker the tasks feed. README, "Secrets".
RENDERED_FIELDS_MASKED = Version("3.3") <= AIRFLOW_VERSION
# The source URL with credentials in it, as a user may set taxi_source_base_url: the file server
# ignores them; no task log file and no rendered field may show the password.
PASSWORD = "e2e-Pw-7c1f9"  # noqa: S105 - a test value


@pytest.fixture(scope="module")
def airflow(stack):
    secret_url = stack.s.source_base_url.replace("://", f"://taxi:{PASSWORD}@", 1)
    try:
        stack.start_airflow({**COMPONENT_ENV, "AIRFLOW_VAR_TAXI_SOURCE_BASE_URL": secret_url}, timeout=180)
        yield stack
    finally:
        stack.stop_airflow()


def bigquery_idle() -> bool:
    queued = airflow_meta.queued_assets("taxi_gcs_to_bigquery")
    active = [r for r in dag_runs("taxi_gcs_to_bigquery") if r[2] in ("queued", "running")]
    return not queued and not active


# Airflow 3.1's `airflow backfill create` hands --dag-run-conf to the runs unparsed, and fails
# (ValueError): there taxi_web_to_postgres is backfilled through the CLI with the default params
# (both colours), and taxi_web_to_gcs through the REST API the UI's backfill dialog uses, with the
# colour in its conf, so that taxi_gcs_to_bigquery loads green only, as on 3.3 (both colours
# there doubled the longest test of the matrix).
CLI_BACKFILL_TAKES_CONF = Version("3.2") <= AIRFLOW_VERSION


def unpause(dag_id: str) -> None:
    """What `airflow dags unpause` does, in this process (each CLI call costs two seconds of CPU)."""
    wait_for(lambda: dag_id in registered_dags(), f"the dag-processor registering {dag_id}", 180)
    airflow_meta.set_paused(dag_id, False)


def backfill_runs_ended(dag_id: str, ended_after: dt.datetime | None = None, months=MONTHS) -> bool:
    """Every month's backfill run has ended (since ended_after). The backfill itself is marked
    completed only at the scheduler's check every 30 s: only a next backfill of the DAG waits for that."""
    runs = [r for r in dag_runs(dag_id, ended_after=ended_after) if r[0] == "backfill"]
    return len(runs) == len(months) and all(r[2] in ("success", "failed") for r in runs)


def api_token(stack) -> str:
    url = f"http://127.0.0.1:{stack.s.api_port}/auth/token"
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)["access_token"]


def api_post(stack, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{stack.s.api_port}{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {api_token(stack)}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local api-server
        assert response.status == 200
        return json.load(response)


def backfill(stack, dag_id: str, months=MONTHS) -> None:
    """A backfill of the months for green (the CLI; see CLI_BACKFILL_TAKES_CONF for Airflow 3.1)."""
    if not CLI_BACKFILL_TAKES_CONF and dag_id == "taxi_web_to_gcs":
        body = {"dag_id": dag_id, "from_date": f"{months[0]}-01T00:00:00Z", "to_date": f"{months[-1]}-01T00:00:00Z"}
        body |= {"dag_run_conf": {"colors": [COLOR]}, "max_active_runs": 3}
        api_post(stack, "/api/v2/backfills", body)
        return
    conf = ["--dag-run-conf", json.dumps({"colors": [COLOR]})] if CLI_BACKFILL_TAKES_CONF else []
    stack.airflow(
        "backfill",
        "create",
        "--dag-id",
        dag_id,
        "--from-date",
        f"{months[0]}-01",
        "--to-date",
        f"{months[-1]}-01",
        *conf,
        quiet=True,
    )


def assert_no_password_in_logs_or_rendered_fields(stack) -> None:
    """Airflow's own task log files, and the rendered template fields the UI shows, of every task
    that read the source URL: the password is masked (Airflow's secret masker, fed as the template
    renders)."""
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.utils.session import create_session

    logs = [p for p in (stack.s.airflow_home / "logs").rglob("*.log") if "dag_id=taxi_web_to" in str(p)]
    assert logs
    assert [p for p in logs if PASSWORD in p.read_text(errors="replace")] == []
    if not RENDERED_FIELDS_MASKED:
        return
    with create_session() as session:
        rendered = [json.dumps(r.rendered_fields, default=str) for r in session.query(RenderedTaskInstanceFields)]
    with_url = [r for r in rendered if "127.0.0.1" in r]
    assert any("***@127.0.0.1" in r for r in with_url), with_url
    assert [r for r in rendered if PASSWORD in r] == []


def assert_runs_name_the_month_they_loaded() -> None:
    """Every run of taxi_web_to_gcs, of every type (the scheduled run of 2021-07 that unpausing
    creates without catch-up, the backfills), shows the month its Asset event says it loaded."""
    loaded = airflow_meta.event_months(asset_name(assets.monthly_parquet(COLOR)))
    runs = {r[0]: r for r in airflow_meta.run_periods("taxi_web_to_gcs", with_run_id=True)}
    checked = set()
    for run_id, month in loaded.items():
        if run_id in runs:
            _, run_type, *period, _ = runs[run_id]
            assert tuple(period) == month_period(month), (run_id, month, period)
            checked.add(run_type)
    assert {"backfill", "scheduled"} <= checked, (checked, loaded)


def snapshot(stack) -> dict:
    """Everything the backfills wrote: PostgreSQL rows (digest per month), GCS objects (md5), BigQuery counts."""
    import psycopg

    with psycopg.connect(stack.s.pg_uri(stack.s.target_db)) as conn:
        pg = conn.execute(
            f"SELECT source_month, count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) "
            f"FROM ny_taxi.{COLOR}_tripdata t WHERE source_month BETWEEN '{MONTHS[0]}-01' AND '{MONTHS[-1]}-01' "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
    client = storage.client()
    objects = {}
    for prefix in (f"{COLOR}/", layout.dataset_prefix(COLOR)):
        for b in client.list_blobs(stack.s.gcs_bucket, prefix=prefix):
            if any(m in b.name for m in MONTHS) and "/2021/" not in b.name:
                # A dataset file by partition and month: each load has its own id (one load per month).
                parsed = layout.file_month_and_load(b.name)
                key = f"{b.name.rsplit('/', 1)[0]}/{parsed[0]}" if b.name.startswith(prefix) and parsed else b.name
                assert key not in objects, f"two loads of {key}"
                objects[key] = b.md5_hash
    bq = queries.client(settings.GCP_CONN_ID)
    counts = {
        m: queries.month_rows(bq, f"{bq.project}.{stack.s.bq_dataset}.{COLOR}_tripdata", _month(m)) for m in MONTHS
    }
    return {"postgres": pg, "gcs": objects, "bigquery": counts}


def _month(m: str):

    return month_start(m)


@pytest.mark.timeout(1500)
def test_backfills_with_the_real_scheduler_and_asset_triggers(airflow, pg, bucket):
    stack = airflow
    bq = queries.client(settings.GCP_CONN_ID)
    bq.delete_dataset(f"{bq.project}.{stack.s.bq_dataset}", delete_contents=True, not_found_ok=True)
    wait_for(lambda: all(dag_id in registered_dags() for dag_id in DAGS), "the dag-processor registering the DAGs", 180)
    for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs", "taxi_gcs_to_bigquery"):
        airflow_meta.delete_runs(dag_id)  # the integration tests' runs of the same months
    # Tasks of paused DAGs never run, backfills included. Unpaused, each DAG runs its latest month
    # (2021-07, without catch-up); taxi_gcs_to_bigquery once taxi_web_to_gcs has written that month,
    # as the demo does: unpaused with it, its 2021-07 run raced the write, and waited for retries.
    unpause("taxi_web_to_postgres")
    unpause("taxi_web_to_gcs")
    wait_for(
        lambda: any(r[0] == "scheduled" and r[2] == "success" for r in dag_runs("taxi_web_to_gcs")),
        "taxi_web_to_gcs's scheduled run",
        diagnose=lambda: _task_states("taxi_web_to_gcs"),
    )
    unpause("taxi_gcs_to_bigquery")

    backfill(stack, "taxi_web_to_postgres")
    backfill(stack, "taxi_web_to_gcs")
    wait_for(
        lambda: backfill_runs_ended("taxi_web_to_postgres") and backfill_runs_ended("taxi_web_to_gcs"), "the backfills"
    )
    for dag_id in ("taxi_web_to_postgres", "taxi_web_to_gcs"):
        # The month loaded is the month the UI shows: logical date, data interval (the timetable's
        # plugin), the run's name and its note (the plugin's listener).
        runs = [r for r in airflow_meta.run_periods(dag_id, with_run_id=True) if r[1] == "backfill"]
        assert [r[1:] for r in runs] == [("backfill", *month_period(m), "success") for m in MONTHS], runs
        assert [r[0] for r in runs] == [f"backfill__{m}-01T00:00:00+00:00" for m in MONTHS]
        notes = airflow_meta.run_notes(dag_id)
        assert [notes[r[0]].split("\n")[0] for r in runs] == [
            f"Loads {'yellow, green' if dag_id == 'taxi_web_to_postgres' and not CLI_BACKFILL_TAKES_CONF else COLOR} "
            f"{m} (its logical date, in a backfill)."
            for m in MONTHS
        ]
    assert_runs_name_the_month_they_loaded()

    # Every month's Asset event queued taxi_gcs_to_bigquery; its runs load them.
    wait_for(
        lambda: _bigquery_has_months(stack) and bigquery_idle(),
        "taxi_gcs_to_bigquery on the Asset events",
        diagnose=lambda: _task_states("taxi_gcs_to_bigquery"),
    )
    assert any(r[0] == "asset_triggered" and r[2] == "success" for r in dag_runs("taxi_gcs_to_bigquery"))

    assert_no_password_in_logs_or_rendered_fields(stack)

    first = snapshot(stack)
    expected = {m: expected_rows(stack.s.files_dir, m, COLOR) for m in MONTHS}
    assert {f"{m:%Y-%m}": n for m, n, _ in first["postgres"]} == expected
    assert first["bigquery"] == expected
    assert {f"{COLOR}/{COLOR}_tripdata_{m}.parquet" for m in MONTHS} <= set(first["gcs"])

    # Two other months: each Asset event is loaded once (the BigQuery runs they trigger load them,
    # not MONTHS again, which earlier events had brought).
    wait_for(lambda: airflow_meta.backfills_done("taxi_web_to_gcs"), "the first backfill marked completed", 120)
    since = dt.datetime.now(tz=dt.UTC)
    backfill(stack, "taxi_web_to_gcs", SECOND)
    wait_for(lambda: backfill_runs_ended("taxi_web_to_gcs", since, SECOND), "the second backfill")
    wait_for(
        lambda: _bigquery_has_months(stack, SECOND) and bigquery_idle(),
        "taxi_gcs_to_bigquery on the second pair's events",
        diagnose=lambda: _task_states("taxi_gcs_to_bigquery"),
    )
    loaded = airflow_meta.events_since(asset_name(assets.bigquery_trips()), since)
    assert sorted(loaded) == [(COLOR, m) for m in SECOND], loaded


@pytest.mark.timeout(600)
def test_a_manual_run_shows_the_month_it_loads(airflow):
    """Triggered by hand for 2021-04-01 (00:00 UTC) as the UI's trigger form does (the REST API):
    the run's logical date and data interval are April, and April is loaded; for 2021-04-15 (the
    CLI) the run fails, and its note says why; May picked in the form's Month twice: two runs,
    each replacing the month."""
    import psycopg

    stack, dag_id = airflow, "taxi_web_to_postgres"
    unpause(dag_id)
    api_post(
        stack, f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": "2021-04-01T00:00:00Z", "conf": {"colors": [COLOR]}}
    )
    conf = json.dumps({"colors": [COLOR]})
    stack.airflow("dags", "trigger", dag_id, "--logical-date", "2021-04-15T00:00:00+00:00", "--conf", conf, quiet=True)
    # The month picked in the trigger form (params.month), twice: two runs, no 409, the month once.
    picked = {"logical_date": None, "conf": {"colors": [COLOR], "month": "2021-05"}}
    first = api_post(stack, f"/api/v2/dags/{dag_id}/dagRuns", picked)["dag_run_id"]
    again = api_post(stack, f"/api/v2/dags/{dag_id}/dagRuns", picked)["dag_run_id"]

    def manual_runs():
        runs = [r for r in airflow_meta.run_periods(dag_id, with_run_id=True) if r[1] == "manual"]
        return runs if len(runs) == 4 and all(r[-1] in ("success", "failed") for r in runs) else None

    runs = wait_for(manual_runs, "the manual runs", diagnose=lambda: _task_states(dag_id))
    by_id = {r[0]: r[1:] for r in runs}
    assert [by_id[first][-1], by_id[again][-1]] == ["success", "success"], runs
    dated = sorted(r[1:] for r in runs if r[0] not in (first, again))
    # The UI's path: logical date, data interval and the month loaded agree. (The CLI's trigger infers
    # a manual run's data interval from the time of the trigger, not from its logical date: README.)
    assert dated[0] == ("manual", *month_period("2021-04"), "success"), runs
    assert [(r[0], r[1], r[-1]) for r in dated[1:]] == [("manual", "2021-04-15", "failed")]
    # Each run's note says what it loads; the failed one, why: on the run's page, not only in a log.
    notes = airflow_meta.run_notes(dag_id)
    assert notes[first] == notes[again] == f"Loads {COLOR} 2021-05: the month picked in the trigger form."
    failed = next(run_id for run_id, *rest in runs if rest[-1] == "failed")
    assert "2021-04-15" in notes[failed], notes[failed]
    assert "\n\nFailed: " in notes[failed], notes[failed]
    with psycopg.connect(stack.s.pg_uri(stack.s.target_db)) as conn:
        months = conn.execute(
            f"SELECT to_char(source_month, 'YYYY-MM'), count(*) FROM ny_taxi.{COLOR}_tripdata "
            "WHERE source_month IN ('2021-04-01', '2021-05-01') GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert months == [(m, expected_rows(stack.s.files_dir, m, COLOR)) for m in ("2021-04", "2021-05")]


def _bigquery_has_months(stack, months=MONTHS) -> bool:
    try:
        bq = queries.client(settings.GCP_CONN_ID)
        table = f"{bq.project}.{stack.s.bq_dataset}.{COLOR}_tripdata"
        return all(queries.month_rows(bq, table, _month(m)) > 0 for m in months)
    except Exception:  # the table does not exist yet
        return False


CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium() -> str | None:
    return os.getenv("TAXI_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.timeout(300)
def test_the_ui_in_a_real_browser(airflow, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    if chromium() is None:
        pytest.skip("Chromium is not installed (make setup installs Debian's chromium when run as root)")
    stack = airflow
    wait_for(lambda: all(dag_id in registered_dags() for dag_id in DAGS), "the dag-processor registering the DAGs", 180)
    output = stack.airflow_output("dags", "list-import-errors", "--output", "json")
    lines = [line for line in output.splitlines() if line.startswith(("[]", "[{"))]  # warnings come first
    errors = json.loads(lines[-1]) if lines else None
    assert errors == [], output
    shots = Path(os.getenv("TAXI_SCREENSHOT_DIR", str(tmp_path_factory.mktemp("screenshots"))))
    shots.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{stack.s.api_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium(),
            headless=True,
            args=CHROMIUM_FLAGS,
        )
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            # The automatic login first: Airflow 3.1 lands on / after it, whatever URL was asked for.
            page.goto(url, wait_until="networkidle", timeout=60_000)
            page.goto(f"{url}/dags", wait_until="networkidle", timeout=60_000)
            for dag_id in DAGS:
                page.get_by_text(dag_id, exact=True).first.wait_for(timeout=30_000)
            assert f"{len(DAGS)} Dags" in page.inner_text("body")
            assert "Import Error" not in page.inner_text("body")
            page.screenshot(path=str(shots / "dag-list.png"), full_page=True)

            page.goto(f"{url}/dags/taxi_web_to_postgres", wait_until="networkidle", timeout=60_000)  # grid and overview
            page.get_by_text("load_zone_lookup").first.wait_for(timeout=30_000)
            assert "Page Not Found" not in page.inner_text("body")
            page.screenshot(path=str(shots / "taxi_web_to_postgres-grid.png"), full_page=True)
        finally:
            browser.close()
    assert (shots / "dag-list.png").stat().st_size > 10_000


def test_the_api_server_listens_on_this_machine_only(airflow):
    """Locally every user is an admin: the api-server binds to 127.0.0.1 (TAXI_AIRFLOW_HOST widens it);
    no component (nor a child of one: the scheduler's and triggerer's log servers) listens beyond it."""
    import psutil

    from taxi_dev import procs
    from taxi_dev.stack import airflow_components

    pids = set()
    for name in airflow_components():
        pid = procs.read_pid(airflow.s.run_dir / f"{name}.pid")
        parent = psutil.Process(pid)
        pids |= {parent.pid, *(child.pid for child in parent.children(recursive=True))}
    wide = [
        (c.laddr, c.pid)
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN
        and c.pid in pids
        and c.laddr.ip not in ("127.0.0.1", "::1", "::ffff:127.0.0.1")
    ]
    assert wide == []

    listening = [
        c.laddr.ip
        for c in psutil.net_connections(kind="inet")
        if c.status == psutil.CONN_LISTEN and c.laddr.port == airflow.s.api_port
    ]
    assert listening, f"nothing listens on port {airflow.s.api_port}"
    assert set(listening) == {"127.0.0.1"}


def run_reconcile(stack) -> tuple[str, str]:
    """A manual run of taxi_reconcile on the real scheduler: (its state, its task's log)."""
    since = dt.datetime.now(tz=dt.UTC)
    stack.airflow("dags", "trigger", "taxi_reconcile", quiet=True)

    def ended():
        runs = [r for r in airflow_meta.dag_runs("taxi_reconcile", ended_after=since) if r[0] == "manual"]
        return runs[-1][2] if runs else None

    state = wait_for(ended, "the taxi_reconcile run", timeout=300, diagnose=lambda: _task_states("taxi_reconcile"))
    logs = sorted((stack.s.airflow_home / "logs").rglob("*.log"), key=lambda p: p.stat().st_mtime)
    log = next((p for p in reversed(logs) if "dag_id=taxi_reconcile" in str(p)), None)
    return state, log.read_text(errors="replace") if log else ""


HEALTH = ("MetaDatabase", "Scheduler", "Triggerer", "Dag Processor")


def health_badges(page) -> dict[str, tuple[int, int, int]]:
    """{component: background colour (RGB)} of the Home page's Health badges."""
    page.get_by_text("Triggerer", exact=True).first.wait_for(timeout=30_000)
    # The UI's colours are oklch(): a canvas turns each into RGB.
    to_rgb = """l => l.map(e => {
        const c = document.createElement('canvas').getContext('2d');
        c.fillStyle = getComputedStyle(e).backgroundColor; c.fillRect(0, 0, 1, 1);
        return [e.innerText.trim(), Array.from(c.getImageData(0, 0, 1, 1).data.slice(0, 3))];
    })"""
    colours = page.locator(".chakra-badge").evaluate_all(to_rgb)  # (3.3 adds data-testid=state-badge; 3.1 not)
    return {name: tuple(rgb) for name, rgb in colours if name in HEALTH}


def reddish(rgb: tuple[int, int, int]) -> bool:
    r, g, b = rgb
    return r > 120 and r > g + 60 and r > b + 60


@pytest.mark.timeout(900)
def test_the_coverage_page_and_the_home_page_in_a_real_browser(airflow, tmp_path_factory):
    """After the backfills (two green months in every target): the page's grid has the exact
    rows of each target; rows deleted in PostgreSQL turn that cell red and the reconcile run fails
    naming the month; a month's page previews its rows; the Home page's Health has no red badge."""
    import psycopg
    from playwright.sync_api import sync_playwright

    from taxi_flows.coverage import store
    from taxi_flows.coverage.month import PREVIEW_ROWS

    if chromium() is None:
        pytest.skip("Chromium is not installed (make setup installs Debian's chromium when run as root)")
    stack = airflow
    expected = {m: expected_rows(stack.s.files_dir, m, COLOR) for m in MONTHS}
    unpause("taxi_reconcile")
    state, log = run_reconcile(stack)
    assert state == "success", log[-3000:]
    shots = Path(os.getenv("TAXI_SCREENSHOT_DIR", str(tmp_path_factory.mktemp("coverage"))))
    shots.mkdir(parents=True, exist_ok=True)
    url = f"http://127.0.0.1:{stack.s.api_port}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            page.goto(url, wait_until="networkidle", timeout=60_000)
            badges = health_badges(page)
            assert set(badges) == set(HEALTH), badges
            assert [name for name, rgb in badges.items() if reddish(rgb)] == [], badges
            assert all(g > r for r, g, _ in badges.values()), badges  # green: healthy
            page.screenshot(path=str(shots / "home.png"))

            def cells():
                """{(month, target): (text, class)} of the grid, in the UI's frame of the plugin page."""
                page.goto(f"{url}/plugin/taxi_coverage", wait_until="networkidle", timeout=60_000)
                frame = page.frame_locator("iframe[title='Taxi coverage']")
                frame.locator("td[data-cell]").first.wait_for(timeout=30_000)
                found = frame.locator(f"td[data-cell^='{COLOR} ']").evaluate_all(
                    "l => l.map(e => [e.dataset.cell, e.innerText, e.className])"
                )
                return {tuple(cell.split()[1:]): (text, css) for cell, text, css in found}

            grid = cells()
            for m in MONTHS:
                for target in store.TARGETS:
                    text, css = grid[(m, target)]
                    assert (text.split(" (")[0], css) == (f"{expected[m]:,}", "ok"), (m, target, grid)
            page.screenshot(path=str(shots / "taxi-coverage.png"), full_page=True)

            # A run link opens in Airflow's own window, not a second UI inside the frame.
            frame = page.frame_locator("iframe[title='Taxi coverage']")
            frame.locator("a[data-airflow]").first.click()
            page.wait_for_url("**/dags/taxi_reconcile/runs/**", timeout=30_000)
            # Airflow's router renders the run's page in place of the frame
            page.locator("iframe[title='Taxi coverage']").wait_for(state="detached", timeout=30_000)

            page.goto(f"{url}/taxi/month/{COLOR}/{MONTHS[0]}", wait_until="networkidle", timeout=60_000)
            assert page.locator("table.preview tr").count() == PREVIEW_ROWS + 1  # the header, then the rows
            assert f"{expected[MONTHS[0]]:,}" in page.inner_text("body")  # rows written: every row

            # A month in GCS and BigQuery only (SECOND: taxi_web_to_gcs's backfill): every target's
            # line, the runs that wrote them, no dead end. In a window of 800 px, dark: nothing
            # wider than the window but the tables, which scroll.
            narrow = browser.new_context(viewport={"width": 800, "height": 900}, color_scheme="dark").new_page()
            narrow.goto(f"{url}/taxi/month/{COLOR}/{SECOND[0]}", wait_until="networkidle", timeout=60_000)
            lines = narrow.locator("tr[data-target]").evaluate_all(
                "l => Object.fromEntries(l.map(e => [e.dataset.target, Array.from(e.cells, c => c.innerText)]))"
            )
            second = expected_rows(stack.s.files_dir, SECOND[0], COLOR)
            assert lines["postgres"][1:3] == ["—", "—"], lines
            for target in ("gcs_monthly", "gcs_dataset", "bigquery"):
                assert lines[target][1] == f"{second:,}", lines
            assert lines["gcs_monthly"][5].startswith(f"backfill__{SECOND[0]}-01"), lines
            assert lines["bigquery"][5].startswith("asset_triggered__"), lines
            assert lines["bigquery"][6] == f"gs://{stack.s.gcs_bucket}/{COLOR}/{COLOR}_tripdata_{SECOND[0]}.parquet"
            assert narrow.evaluate("document.documentElement.scrollWidth") <= 800
            background = narrow.evaluate("getComputedStyle(document.body).backgroundColor")
            assert sum(int(x) for x in background[4:-1].split(",")[:3]) < 150, background  # dark
            narrow.screenshot(path=str(shots / "taxi-coverage-month-800px-dark.png"), full_page=True)

            # The homework view: the quarter's rows are the served files' (every row).
            page.goto(f"{url}/taxi/homework?color={COLOR}&month={MONTHS[0]}", wait_until="networkidle", timeout=60_000)
            rows = page.locator("xpath=//th[normalize-space()='rows']/following-sibling::td[1]").first.inner_text()
            # (the backfill loads two months of the quarter: the cell says so and names the third)
            assert rows.split(" (")[0] == f"{sum(expected.values()):,}", page.inner_text("body")
            assert f"({len(MONTHS)} of 3 months loaded)" in rows, rows
            page.screenshot(path=str(shots / "taxi-homework.png"), full_page=True)

            with psycopg.connect(stack.s.pg_uri(stack.s.target_db), autocommit=True) as conn:
                month = f"source_month = '{MONTHS[1]}-01'"  # (a ctid is unique within a partition only)
                conn.execute(
                    f"DELETE FROM ny_taxi.{COLOR}_tripdata WHERE {month} AND ctid IN "
                    f"(SELECT ctid FROM ny_taxi.{COLOR}_tripdata WHERE {month} LIMIT 10)"
                )
            state, log = run_reconcile(stack)
            assert state == "failed"
            assert f"{COLOR} {MONTHS[1]}: PostgreSQL rows {expected[MONTHS[1]] - 10:,}" in log, log[-3000:]
            grid = cells()
            assert grid[(MONTHS[1], "postgres")] == (f"{expected[MONTHS[1]] - 10:,}", "bad"), grid
            assert grid[(MONTHS[1], "bigquery")] == (f"{expected[MONTHS[1]]:,}", "bad"), grid
            assert {grid[(m, "postgres")][1] for m in MONTHS if m != MONTHS[1]} == {"ok"}
            page.screenshot(path=str(shots / "taxi-coverage-mismatch.png"), full_page=True)
        finally:
            browser.close()
