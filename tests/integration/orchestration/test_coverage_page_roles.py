"""The coverage page through the real api-server (Airflow 3.1+), with Airflow's simple auth manager
and two users, an admin and a viewer: what each role may read, the routes that are off, the bad
requests, and a burst of page requests that leaves Airflow's own API answering.

Only the api-server runs (the session's metadata database, no scheduler): what is tested is the
plugin's app as the api-server mounts it, with its auth manager."""

from __future__ import annotations

import datetime as dt
import json
import threading
import urllib.error
import urllib.request
from email.message import Message

import psycopg
import pytest

from taxi_dev import procs
from taxi_dev.settings import free_port
from taxi_flows.coverage import store
from taxi_flows.coverage.month import HIDDEN
from taxi_flows.coverage.reader import APPLICATION_NAME
from taxi_flows.orchestration.compat import PLUGIN_FASTAPI_APPS
from taxi_flows.settings import POSTGRES_SCHEMA

pytestmark = [pytest.mark.integration, pytest.mark.depends_on("airflow-release")]
if not PLUGIN_FASTAPI_APPS:
    pytest.skip("the coverage page is an Airflow 3.1+ plugin", allow_module_level=True)

USERS = {"admin": "admin-pw-3f", "viewer": "viewer-pw-9c"}
QUEUE = 8  # TAXI_PAGE_QUEUE of this api-server


@pytest.fixture(scope="module")
def api(stack, tmp_path_factory):
    """An api-server of its own (a free port): users admin and viewer, the page's queue QUEUE, and
    waits long enough that a held lock, not a timeout, ends the burst."""
    folder = tmp_path_factory.mktemp("api")
    passwords = folder / "passwords.json"
    passwords.write_text(json.dumps(USERS))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **stack.local_env(),
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin,viewer:viewer",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
        "TAXI_PAGE_QUEUE": str(QUEUE),
        "TAXI_PAGE_WAIT_SECONDS": "120",
        "TAXI_PAGE_STATEMENT_SECONDS": "120",
    }
    pid = procs.spawn("api-server", stack.airflow_argv("api-server"), folder, env=env)
    try:
        procs.wait_until(
            lambda: procs.http_ok(f"{url}/api/v2/monitor/health"), "the api-server", 180, folder / "api-server.log"
        )
        yield url
    finally:
        procs.stop_pid(pid)


def token(api: str, user: str) -> str:
    body = json.dumps({"username": user, "password": USERS[user]}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(f"{api}/auth/token", body, headers)  # noqa: S310 - the local api-server
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local api-server
        return json.load(response)["access_token"]


def get(api: str, path: str, bearer: str | None = None, timeout: float = 60) -> tuple[int, str, Message]:
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    request = urllib.request.Request(f"{api}{path}", headers=headers)  # noqa: S310 - the local api-server
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            return response.status, response.read().decode(), response.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), e.headers


@pytest.fixture
def stored(pg):
    """What a load and a reconcile run store for green 2021-01, and one trip row to preview."""
    month = dt.date(2021, 1, 1)
    summary = {"rows_read": 1, "rows_written": 1, "rows_clean": 1, "pickup_dates": ["2021-01-01"]}
    store.record_load(pg, "green", month, {**summary, "clean_vendor_ids": [2]}, "taxi_web_to_postgres", "manual__x")
    counts = [store.Count("green", "2021-01", target, 1) for target in store.TARGETS]
    store.save_counts(pg, counts, "manual__reconcile")
    pg.execute(f"CREATE TABLE {POSTGRES_SCHEMA}.green_tripdata (source_month date, vendor_id int, fare text)")
    pg.execute(f"INSERT INTO {POSTGRES_SCHEMA}.green_tripdata VALUES ('2021-01-01', 2, 'secret-fare-17.5')")
    return pg


def test_a_viewer_reads_the_counts_an_admin_the_trips_too(api, stored):
    viewer, admin = token(api, "viewer"), token(api, "admin")
    assert get(api, "/taxi/")[0] == 401  # signed in or nothing
    assert get(api, "/api/v2/connections", viewer)[0] == 403  # Airflow's own rule for the viewer
    for user in (viewer, admin):
        status, body, _ = get(api, "/taxi/", user)
        assert status == 200, body
        assert 'data-cell="green 2021-01 postgres"' in body
        status, body, _ = get(api, "/taxi/homework?color=green&month=2021-01", user)
        assert status == 200, body
        assert "<script src" not in body  # nothing loaded from elsewhere (the page's one script is inline)
        assert "cdn" not in body.lower()

    status, body, _ = get(api, "/taxi/month/green/2021-01", viewer)
    assert status == 200, body
    assert "manual__x" in body  # the load's figures, not the trips
    assert HIDDEN in body
    assert "secret-fare-17.5" not in body
    status, body, _ = get(api, "/taxi/month/green/2021-01", admin)
    assert "secret-fare-17.5" in body
    assert HIDDEN not in body

    for off in ("/taxi/docs", "/taxi/redoc", "/taxi/openapi.json"):
        assert get(api, off)[0] == 404, off
        assert get(api, off, admin)[0] == 404, off
    for bad in ("/taxi/month/yellow/0000-01", "/taxi/month/green/2021-13", "/taxi/homework?quarter=2021-Q9"):
        status, body, _ = get(api, bad, admin)
        assert status == 400, (bad, status, body)
        assert "ask for" in body, body


def test_a_burst_of_page_requests_leaves_airflows_api_answering(api, stack, stored):
    admin = token(api, "admin")
    results: list[int] = []
    with psycopg.connect(stack.s.pg_uri(stack.s.target_db)) as locker:
        # The page's reads wait behind this lock until the test lets them go.
        locker.execute(f"LOCK TABLE {store.LOADS} IN ACCESS EXCLUSIVE MODE")
        burst = [
            threading.Thread(target=lambda: results.append(get(api, "/taxi/homework", admin, 180)[0]))
            for _ in range(100)
        ]
        for thread in burst:
            thread.start()
        procs.wait_until(lambda: results.count(503) == 100 - QUEUE, "the requests beyond the queue refused", 120)
        status, body, headers = get(api, "/taxi/", admin)
        assert (status, headers.get("Retry-After")) == (503, "5"), body  # a full queue: try again later
        assert "requests already wait" in body
        status, body, _ = get(api, "/api/v2/dags", admin, timeout=30)
        assert status == 200, body  # Airflow's API answers while the page's requests wait
        assert len(results) == 100 - QUEUE  # ... and they still do
        connections = locker.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APPLICATION_NAME]
        ).fetchone()[0]
        assert connections == 1  # the page's one connection
        locker.rollback()  # the lock goes: the queued requests are answered
    for thread in burst:
        thread.join(180)
    assert sorted(results) == [200] * QUEUE + [503] * (100 - QUEUE)
    status, body, headers = get(api, "/taxi/homework", admin)
    assert status == 200, body
