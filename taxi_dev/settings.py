"""Where the local stack lives and how Airflow is pointed at it.

Everything is read from the environment once, with defaults chosen not to collide with a
PostgreSQL already on 5432 (or 55432). The local PostgreSQL listens on 127.0.0.1 only and asks for a
password (made once per stack folder, in <state>/pg-password, readable by its owner only), so
another local user cannot connect; nothing secret is committed.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _port(name: str, default: int) -> int:
    value = os.getenv(name, str(default))
    try:
        return int(value)
    except ValueError:
        raise SystemExit(f"{name}={value!r} is not a port number") from None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ui_host() -> str:
    """The address the local Airflow UI/API listens on: TAXI_AIRFLOW_HOST, default 127.0.0.1 (this
    machine only: locally every user is an admin)."""
    return os.getenv("TAXI_AIRFLOW_HOST", "127.0.0.1").strip() or "127.0.0.1"


EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}


def executor_setting() -> str:
    """The executor of the local Airflow: TAXI_EXECUTOR, LocalExecutor (default) or CeleryExecutor
    (Cloud Composer's: Redis and two workers of the stack; `local` and `celery` also do)."""
    value = os.getenv("TAXI_EXECUTOR", "").strip() or "LocalExecutor"
    found = EXECUTORS.get(value.lower()) or next((e for e in EXECUTORS.values() if e.lower() == value.lower()), None)
    if found is None:
        raise SystemExit(f"TAXI_EXECUTOR={value!r}: one of LocalExecutor or CeleryExecutor (local, celery)")
    return found


@dataclass(frozen=True)
class StackSettings:
    """Paths and ports of one local stack (the user's, or a test session's own)."""

    state_dir: Path
    pg_port: int
    http_port: int
    api_port: int
    gcs_port: int
    bq_port: int
    bq_grpc_port: int
    redis_port: int = 28094
    executor: str = "LocalExecutor"
    pg_user: str = "postgres"
    target_db: str = "taxi"
    airflow_db: str = "airflow"
    gcs_bucket: str = "taxi-flows-local"
    gcp_project: str = "taxi-flows-local"
    bq_dataset: str = "ny_taxi"
    bq_location: str = "US"
    dags_folder: Path = field(default=REPO / "dags")

    @classmethod
    def from_env(cls) -> StackSettings:
        return cls(
            state_dir=Path(os.getenv("TAXI_STATE_DIR", str(REPO / ".local"))).resolve(),
            pg_port=_port("TAXI_PG_PORT", 25432),
            http_port=_port("TAXI_HTTP_PORT", 28088),
            api_port=_port("TAXI_AIRFLOW_PORT", 28080),
            gcs_port=_port("TAXI_GCS_PORT", 28090),
            bq_port=_port("TAXI_BQ_PORT", 28092),
            bq_grpc_port=_port("TAXI_BQ_GRPC_PORT", 28093),
            redis_port=_port("TAXI_REDIS_PORT", 28094),
            executor=executor_setting(),
        )

    @classmethod
    def temporary(cls, prefix: str = "taxi-flows-", executor: str = "LocalExecutor") -> StackSettings:
        """A stack of its own (tests, benchmarks): a new folder under the system's temp dir, free ports."""
        state = Path(tempfile.mkdtemp(prefix=prefix))
        state.chmod(0o755)  # the PostgreSQL server runs as another user when we run as root
        names = ("pg_port", "http_port", "api_port", "gcs_port", "bq_port", "bq_grpc_port", "redis_port")
        return cls(state_dir=state, executor=executor, **{name: free_port() for name in names})

    def with_executor(self, executor: str) -> StackSettings:
        """The same stack, its Airflow on another executor (LocalExecutor or CeleryExecutor)."""
        return dataclasses.replace(self, executor=executor)

    @property
    def celery(self) -> bool:
        return self.executor == "CeleryExecutor"

    # -- paths ------------------------------------------------------------------------------
    @property
    def pg_data(self) -> Path:
        return self.state_dir / "postgres" / "data"

    @property
    def pg_socket_dir(self) -> Path:
        return self.state_dir / "postgres"

    @property
    def files_dir(self) -> Path:
        """What the taxi file server serves (sample months are generated into it on demand)."""
        return self.state_dir / "files"

    @property
    def gcs_dir(self) -> Path:
        """The GCS emulator's storage (one folder a bucket)."""
        return self.state_dir / "gcs"

    @property
    def airflow_home(self) -> Path:
        return self.state_dir / "airflow"

    @property
    def run_dir(self) -> Path:
        """pid files and process logs."""
        return self.state_dir / "run"

    # -- URLs -------------------------------------------------------------------------------
    @property
    def pg_password_file(self) -> Path:
        return self.state_dir / "pg-password"

    @property
    def pg_password(self) -> str:
        """The local server's password: made on first use, in a file only its owner can read."""
        return self._secret(self.pg_password_file)

    @property
    def redis_password_file(self) -> Path:
        return self.state_dir / "redis-password"

    @property
    def redis_password(self) -> str:
        """The local Redis's password (the Celery broker): as PostgreSQL's, so another local user
        can neither read nor queue the stack's tasks."""
        return self._secret(self.redis_password_file)

    @staticmethod
    def _secret(path: Path) -> str:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # another process made it first
                pass
            else:
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_urlsafe(24))
        return path.read_text().strip()

    def pg_uri(self, database: str, driver: str = "postgresql", password: bool = True) -> str:
        """The local server's URI (with its password unless password=False: for what is shown)."""
        user = f"{self.pg_user}:{self.pg_password}" if password else self.pg_user
        return f"{driver}://{user}@127.0.0.1:{self.pg_port}/{database}"

    @property
    def source_base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def tlc_base_url(self) -> str:
        """The file server's copy of the TLC's CloudFront layout: /trip-data/<type>_tripdata_YYYY-MM.parquet."""
        return f"{self.source_base_url}/trip-data"

    @property
    def gcs_url(self) -> str:
        return f"http://127.0.0.1:{self.gcs_port}"

    @property
    def bq_url(self) -> str:
        return f"http://127.0.0.1:{self.bq_port}"

    @property
    def bq_dir(self) -> Path:
        return self.state_dir / "bigquery"

    def airflow_env(self) -> dict[str, str]:
        """The environment that points Airflow (CLI, dag.test, the components) at this stack."""
        api = f"http://127.0.0.1:{self.api_port}"
        pythonpath = [str(REPO / "include"), str(REPO)]
        if os.getenv("PYTHONPATH"):
            pythonpath.append(os.environ["PYTHONPATH"])
        return {
            "AIRFLOW_HOME": str(self.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
            # The bundle's plugin: its timetables, and the coverage page (Airflow 3.1+).
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": self.executor,
            # 2 cores: a few task processes at a time is what the machine and the database take.
            "AIRFLOW__CORE__PARALLELISM": "4",
            # A task process parses its DAG file first; with four of them and the other components on 2
            # cores, importing the google provider's BigQuery operators took over the default 30 s.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.pg_uri(self.airflow_db, "postgresql+psycopg2"),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
            "AIRFLOW__API__BASE_URL": api,
            "AIRFLOW__API__PORT": str(self.api_port),
            # Where the api-server (Airflow 2: the webserver) listens. Every local user is an admin:
            # 127.0.0.1 unless TAXI_AIRFLOW_HOST says otherwise (0.0.0.0 opens it to the network).
            "AIRFLOW__API__HOST": ui_host(),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            # The shared code of the bundle (include/taxi_flows) and the dev tools.
            "PYTHONPATH": os.pathsep.join(pythonpath),
            # Connections and variables of the bundle, as Airflow reads them from the environment.
            "AIRFLOW_CONN_TAXI_POSTGRES": self.pg_uri(self.target_db),
            "PGPASSWORD": self.pg_password,  # for psql -h 127.0.0.1 -U postgres in a shell that sourced env.sh
            "AIRFLOW_VAR_TAXI_SOURCE_BASE_URL": self.source_base_url,
            "AIRFLOW_VAR_TAXI_TLC_BASE_URL": self.tlc_base_url,
            # GCS: the emulator, through the google provider's own connection type. The client
            # libraries send every request to STORAGE_EMULATOR_HOST; anonymous credentials carry no
            # project, so the connection names one.
            "STORAGE_EMULATOR_HOST": self.gcs_url,
            "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": json.dumps(
                {"conn_type": "google_cloud_platform", "extra": {"is_anonymous": True, "project": self.gcp_project}}
            ),
            "AIRFLOW_VAR_TAXI_GCS_BUCKET": self.gcs_bucket,
            # BigQuery: the emulator. The client of BigQueryHook.get_client() honours this variable.
            "BIGQUERY_EMULATOR_HOST": self.bq_url,
            "AIRFLOW_VAR_TAXI_BQ_DATASET": self.bq_dataset,
            "TAXI_BQ_LOCATION": self.bq_location,
            **(self.celery_env() if self.celery else {}),
        }

    def celery_env(self) -> dict[str, str]:
        """The CeleryExecutor's settings: the stack's Redis as the broker, the results in Airflow's
        metadata database (as Cloud Composer keeps them), two task processes a worker (two workers:
        the parallelism of 4)."""
        return {
            "AIRFLOW__CELERY__BROKER_URL": f"redis://:{self.redis_password}@127.0.0.1:{self.redis_port}/0",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.pg_uri(self.airflow_db),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        }
