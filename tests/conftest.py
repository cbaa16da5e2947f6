"""The test session's own local stack, and Airflow pointed at it.

Before anything imports Airflow, this picks free ports and a temporary state folder and puts the
stack's environment (AIRFLOW_HOME, AIRFLOW_CONN_TAXI_POSTGRES, AIRFLOW_VAR_TAXI_SOURCE_BASE_URL,
...) into os.environ, so connections and variables come from the environment as in production
and a user's own stack (.local/) is never touched. Tests that need the servers take the `stack`
fixture, which starts PostgreSQL, the taxi file server and the GCS and BigQuery emulators once per
session, migrates Airflow's database, and stops them, by pid, at the end. Helpers the tests share
live in tests/support/ (dag runs, the e2e runs); test constants come from taxi_flows.settings and
the session's StackSettings.

Which tests run on a leg of the version matrix: those whose `depends_on` groups differ there from the
main lock (tests/support/legs.py); the main leg runs them all.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# A run waiting for the TLC to publish a month checks again after a second, not hours (the tests'
# file server publishes a month on the third request at most). Set before the settings are read.
os.environ["TAXI_PUBLICATION_POKE_SECONDS"] = "1"

from support import legs

from taxi_dev.settings import StackSettings
from taxi_flows.settings import POSTGRES_SCHEMA

SETTINGS = StackSettings.temporary(prefix="taxi-flows-test-")
os.environ.update(SETTINGS.airflow_env())
LEG = legs.this_leg()  # {group: what differs from the main lock}; empty on the main leg
_DESELECTED = pytest.StashKey[int]()


def pytest_report_header(config):
    return legs.header(LEG) + (["TAXI_TESTS=all: every test runs on this leg"] if legs.run_everything() else [])


def pytest_collection_modifyitems(config, items):
    """Deselect, on a leg other than the main one, the tests that depend on nothing this leg pins differently."""
    try:
        wanted = [legs.groups_of(item.get_closest_marker("depends_on")) for item in items]
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None
    if not LEG or legs.run_everything():
        return
    keep, dropped = [], []
    for item, groups in zip(items, wanted, strict=True):
        (keep if groups & LEG.keys() else dropped).append(item)
    config.stash[_DESELECTED] = len(dropped)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if LEG and not legs.run_everything():
        same = sorted(legs.EVERY_GROUP - LEG.keys())
        also = f" or only on {', '.join(same)}, as on the main leg" if same else ""
        terminalreporter.write_line(
            f"leg selection: {config.stash.get(_DESELECTED, 0)} tests deselected: they depend on no package this "
            f"leg pins differently (depends_on()){also}; TAXI_TESTS=all runs them here too"
        )


@pytest.fixture(scope="session", autouse=True)
def _state_dir():
    yield SETTINGS.state_dir
    if os.getenv("TAXI_KEEP_TEST_STATE"):  # for a post-mortem: logs, database files, objects
        print(f"test state kept in {SETTINGS.state_dir}")
    else:
        shutil.rmtree(SETTINGS.state_dir, ignore_errors=True)


@pytest.fixture(scope="session")
def stack():
    """PostgreSQL, the taxi file server and the emulators of this session, and Airflow's database migrated."""
    from taxi_dev.stack import Stack

    s = Stack(SETTINGS)
    try:
        s.up()
        yield s
    finally:
        s.down()


@pytest.fixture
def pg(pg_as_left):
    """An autocommit connection to the target database, with the target schema (ny_taxi) dropped first."""
    pg_as_left.execute(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE")
    return pg_as_left


@pytest.fixture
def pg_as_left(stack):
    """An autocommit connection to the target database, as the tests before left it."""
    import psycopg

    with psycopg.connect(SETTINGS.pg_uri(SETTINGS.target_db), autocommit=True) as conn:
        yield conn


@pytest.fixture
def files(stack) -> Path:
    """The folder the taxi file server serves (release paths: <color>/<file>, misc/<file>)."""
    return SETTINGS.files_dir


@pytest.fixture
def stub_http():
    """Start a real HTTP server on a free port whose GET answers come from respond(handler, count):
    for the failure modes the taxi file server does not have (5xx, hanging, a body cut short)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    servers = []

    def start(respond, on_post=None) -> str:
        calls = {"count": 0}

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                calls["count"] += 1
                respond(self, calls["count"])

            def do_POST(self):
                on_post(self)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        server.calls = calls
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def serve(files):
    """Put bytes at a release path of the taxi file server for one test: serve("yellow", "2021-03", data).
    The files are removed afterwards (the server then generates its default sample again)."""
    from taxi_flows.core.months import month_start
    from taxi_flows.core.source import trip_file_name

    written = []

    def put(color: str, month: str, data: bytes) -> Path:
        path = files / color / trip_file_name(color, month_start(month))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        written.append(path)
        return path

    yield put
    for path in written:
        path.unlink(missing_ok=True)


@pytest.fixture
def bucket(bucket_as_left):
    """The stack's bucket on the GCS emulator, emptied first; yields (client, bucket name)."""
    from taxi_flows.gcs import storage

    client, name = bucket_as_left
    storage.delete(client, name, storage.list_names(client, name, ""))
    return client, name


@pytest.fixture
def bucket_as_left(stack):
    """(client, bucket name) of the stack's bucket, as the tests before left it."""
    from taxi_flows.gcs import storage

    return storage.client(), SETTINGS.gcs_bucket
