"""The Docker and Cloud Composer paths, checked without a Docker engine or a Google account:
docker-compose.yaml's structure, the Dockerfile, Terraform (fmt, or a parse), the deploy dry run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

# The repository's own files and scripts: nothing here depends on a package the legs pin differently.
pytestmark = pytest.mark.depends_on()

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yaml"
AIRFLOW_SERVICES = (
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
)
BUNDLE_ENV = (
    "AIRFLOW_CONN_TAXI_POSTGRES",
    "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT",
    "AIRFLOW_VAR_TAXI_GCS_BUCKET",
    "AIRFLOW_VAR_TAXI_BQ_DATASET",
    "AIRFLOW_VAR_TAXI_SOURCE_BASE_URL",
    "TAXI_BQ_LOCATION",
)
LONG_RUNNING = (
    "airflow-db",
    "taxi-postgres",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_services_and_profiles(compose):
    services = compose["services"]
    assert set(services) == {*AIRFLOW_SERVICES, "airflow-db", "taxi-postgres", "fake-gcs", "bigquery", "redis"}
    assert services["redis"]["profiles"] == services["airflow-worker"]["profiles"] == ["celery"]
    assert services["airflow-worker"]["command"] == "celery worker"
    assert services["airflow-worker"]["deploy"]["replicas"] == 2
    assert services["airflow-worker"]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert "ports" not in services["redis"]  # the broker is on the compose network only
    assert services["fake-gcs"]["profiles"] == ["emulators"]
    assert services["fake-gcs"]["image"].startswith("fsouza/fake-gcs-server:")
    assert services["bigquery"]["profiles"] == ["emulators"]
    assert services["bigquery"]["image"].startswith("ghcr.io/goccy/bigquery-emulator:")


def test_airflow_is_built_from_requirements_on_the_official_image_with_the_local_executor_by_default(compose):
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in yaml.safe_dump(compose)  # (the comment says why)
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"^ARG AIRFLOW_IMAGE=apache/airflow:3\.\d+\.\d+-python3\.11$", dockerfile, re.MULTILINE)
    assert "COPY requirements.txt /requirements.txt" in dockerfile
    assert "-r /requirements.txt" in dockerfile
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert service["build"] == {"context": ".", "dockerfile": "Dockerfile"}
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"  # Celery: the profile
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://:@redis:6379/0"
        assert env["PYTHONPATH"] == "/opt/airflow/include"  # import taxi_flows, as locally and on Composer
        assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
        for variable in BUNDLE_ENV:
            assert variable in env, f"{name}: {variable}"


def test_the_bundle_is_mounted_where_the_image_imports_it(compose):
    for name in AIRFLOW_SERVICES:
        mounts = {v.split(":")[0]: v.split(":")[1] for v in compose["services"][name]["volumes"] if v.startswith("./")}
        assert mounts["./dags"] == "/opt/airflow/dags"
        assert mounts["./include"] == "/opt/airflow/include"
        assert mounts["./plugins"] == "/opt/airflow/plugins"
    assert (REPO / "plugins").is_dir()
    assert (REPO / "include" / "taxi_flows" / "__init__.py").exists()


def test_composer_gets_every_file_of_the_package_and_the_dag_processor_skips_it():
    """deploy.py syncs include/taxi_flows recursively: its excludes drop only caches, so every
    folder of the layout (core/, postgres/, gcs/, bigquery/, orchestration/) and their sql/ files
    reach <dags>/taxi_flows/; dags/.airflowignore names that folder, whatever lies beneath it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("deploy_under_test", REPO / "deploy" / "deploy.py")
    deploy = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = deploy  # its dataclass looks its module up there
    spec.loader.exec_module(deploy)
    package = REPO / "include" / "taxi_flows"
    files = [
        p.relative_to(package).as_posix() for p in package.rglob("*") if p.is_file() and "__pycache__" not in p.parts
    ]
    assert {f.split("/")[0] for f in files} >= {"core", "postgres", "gcs", "bigquery", "orchestration", "settings.py"}
    assert any(f.endswith(".sql") for f in files)
    assert [f for f in files if re.fullmatch(deploy.EXCLUDE, f)] == []
    assert "taxi_flows/" in (REPO / "dags" / ".airflowignore").read_text().splitlines()


def test_published_ports_bind_to_the_loopback_by_default_and_images_are_pinned(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("${TAXI_BIND_ADDRESS:-127.0.0.1}:"), f"{name} publishes {port} on every interface"
        image = service.get("image", "")
        assert ":" in image, f"{name}: {image!r} has no tag"
        assert not image.endswith(":latest"), f"{name}: {image!r} is not pinned"


def test_healthchecks_and_start_order(compose):
    services = compose["services"]
    for name in (*LONG_RUNNING, "fake-gcs", "bigquery"):
        assert services[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    for name in AIRFLOW_SERVICES:
        depends = services[name]["depends_on"]
        assert depends["airflow-db"] == {"condition": "service_healthy"}
        assert depends["taxi-postgres"] == {"condition": "service_healthy"}
    for name in ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor"):
        assert services[name]["depends_on"]["airflow-init"] == {"condition": "service_completed_successfully"}
    assert "airflow db migrate" in " ".join(services["airflow-init"]["command"])
    assert "pools set taxi_postgres" in " ".join(services["airflow-init"]["command"])


def test_the_target_database_port_comes_from_env(compose):
    assert compose["services"]["taxi-postgres"]["ports"] == [
        "${TAXI_BIND_ADDRESS:-127.0.0.1}:${TAXI_PG_HOST_PORT:-5431}:5432"
    ]
    assert compose["services"]["airflow-apiserver"]["ports"] == [
        "${TAXI_BIND_ADDRESS:-127.0.0.1}:${AIRFLOW_HOST_PORT:-8080}:8080"
    ]


def test_every_variable_is_documented_in_env_example():
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    documented = set(re.findall(r"^([A-Z0-9_]+)=", (REPO / ".env.example").read_text(), re.MULTILINE))
    assert used - documented == set(), "used in docker-compose.yaml, missing from .env.example"
    assert documented - used == set(), "documented in .env.example, not used"


TERRAFORM = REPO / "deploy" / "terraform"


def test_terraform_is_formatted_or_at_least_parses():
    import hcl2

    resources = set()
    for path in sorted(TERRAFORM.glob("*.tf")):
        with open(path) as f:
            for block in hcl2.load(f).get("resource", []):
                for kind, named in block.items():
                    resources |= {f"{kind}.{name}".replace(chr(34), "") for name in named}
    assert {
        "google_composer_environment.taxi_flows",
        "google_storage_bucket.data",
        "google_bigquery_dataset.taxi",
        "google_service_account.taxi_flows",
        "google_sql_database_instance.taxi",
    } <= resources
    terraform = shutil.which("terraform")
    if terraform:
        result = subprocess.run(
            [terraform, "fmt", "-check", "-recursive", str(TERRAFORM)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"terraform fmt would change: {result.stdout}"


def test_the_composer_image_is_an_airflow_3_build():
    variables = (TERRAFORM / "variables.tf").read_text()
    assert re.search(r'default\s+=\s+"composer-3-airflow-3\.\d+\.\d+-build\.\d+"', variables)
    assert 'variable "enable_cloud_sql"' in variables
    assert re.search(r'variable "enable_cloud_sql" \{[^}]*default\s+=\s+false', variables)


def test_deploy_dry_run_prints_every_command():
    result = subprocess.run(
        [
            sys.executable,
            str(REPO / "deploy" / "deploy.py"),
            "--project",
            "my-project",
            "--region",
            "europe-west1",
            "--bucket",
            "my-taxi-bucket",
            "--location",
            "EU",
            "--postgres-uri",
            "postgresql://taxi:s3cret@10.1.2.3:5432/taxi",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    env = "taxi-flows --location europe-west1 --project my-project"
    run = f"gcloud composer environments run {env}"
    exclude = r"'--exclude=.*__pycache__.*|.*\.pyc$'"
    assert result.stdout.splitlines() == [
        f"$ gcloud composer environments describe {env} --format=json",
        "# composer-3-airflow-3.3.1-build.0: a supported Airflow",
        "# deletes only stale files under gs://COMPOSER_BUCKET/dags/taxi_flows/ (the bundle's package) and the "
        "bundle's own DAG files it no longer ships (listed in "
        "gs://COMPOSER_BUCKET/data/taxi_flows/deployed-dag-files.txt); other DAGs and plugins in the environment's "
        "bucket are left as they are",
        "$ gcloud storage cat gs://COMPOSER_BUCKET/data/taxi_flows/deployed-dag-files.txt",
        "# (a real deploy deletes, by name, the DAG files of that list that this one does not ship)",
        f"$ gcloud storage rsync include/taxi_flows gs://COMPOSER_BUCKET/dags/taxi_flows --recursive "
        f"--delete-unmatched-destination-objects {exclude}",
        "$ gcloud storage cp plugins/taxi_flows_plugin.py gs://COMPOSER_BUCKET/plugins/",
        "$ gcloud storage cp dags/.airflowignore dags/check_connections.py dags/taxi_daily_trips_to_gcs.py "
        "dags/taxi_gcs_to_bigquery.py dags/taxi_reconcile.py dags/taxi_web_to_gcs.py dags/taxi_web_to_postgres.py "
        "gs://COMPOSER_BUCKET/dags/",
        "$ gcloud storage cp - gs://COMPOSER_BUCKET/data/taxi_flows/deployed-dag-files.txt < (this deploy's DAG files)",
        f"$ gcloud composer environments update {env} --update-pypi-packages-from-file "
        ".deploy/requirements-composer.txt",
        f"$ gcloud composer environments update {env} --update-env-variables TAXI_BQ_LOCATION=EU,TAXI_CATCHUP=false",
        f"$ {run} variables set -- taxi_gcs_bucket my-taxi-bucket",
        f"$ {run} variables set -- taxi_bq_dataset ny_taxi",
        f"$ {run} variables set -- taxi_source_base_url https://github.com/DataTalksClub/nyc-tlc-data/releases/download",
        f"$ {run} pools set -- taxi_postgres 2 'Loads into the taxi_postgres database'",
        "$ gcloud secrets create airflow-connections-taxi_postgres --replication-policy=automatic --project my-project",
        "$ gcloud secrets versions add airflow-connections-taxi_postgres --data-file=- --project my-project "
        "< (the connection URI: postgresql://***@10.1.2.3:5432/taxi)",
        "$ gcloud secrets add-iam-policy-binding airflow-connections-taxi_postgres "
        "--member=serviceAccount:SERVICE_ACCOUNT --role=roles/secretmanager.secretAccessor --project my-project",
        f"$ gcloud composer environments update {env} --update-airflow-configs=secrets-backend="
        "airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend",
        f"$ {run} connections delete -- taxi_postgres",
        "dry run: nothing was changed",
    ]
    assert "s3cret" not in result.stdout
    packages = (REPO / ".deploy" / "requirements-composer.txt").read_text().splitlines()
    assert "psycopg[binary]>=3.2" in packages
    assert not any(
        line.startswith("#") or "apache-airflow>=" in line or line.startswith("apache-airflow=") for line in packages
    )


FAKE_GCLOUD = r"""#!/usr/bin/env python3
import json, os, sys
args = sys.argv[1:]
stdin = None if sys.stdin.isatty() else sys.stdin.read()
with open(os.environ["GCLOUD_CALLS"], "a") as out:
    out.write(json.dumps({"argv": args, "stdin": stdin}) + "\n")
if args[:3] == ["composer", "environments", "describe"]:
    print(json.dumps({"config": {"softwareConfig": {"imageVersion": "composer-3-airflow-3.3.1-build.0"},
                                 "dagGcsPrefix": "gs://env-bucket/dags",
                                 "nodeConfig": {"serviceAccount": "taxi-flows@p.iam.gserviceaccount.com"}}}))
elif args[:2] == ["storage", "cat"]:
    print("taxi_web_to_postgres.py\ntaxi_old_workflow.py\n../../other/x.py\nnot-a-dag.txt")
"""


def test_a_real_deploy_keeps_the_secret_off_argv_and_deletes_only_its_own_stale_dag_files(tmp_path):
    """deploy.py against a stand-in gcloud that records each call (argv and standard input)."""
    gcloud = tmp_path / "bin" / "gcloud"
    gcloud.parent.mkdir()
    gcloud.write_text(FAKE_GCLOUD)
    gcloud.chmod(0o755)
    calls = tmp_path / "calls.jsonl"
    uri = "postgresql://taxi:p%40ss@w0rd@10.1.2.3:5432/taxi"
    env = {**os.environ, "PATH": f"{gcloud.parent}:{os.environ['PATH']}", "GCLOUD_CALLS": str(calls)}
    argv = [sys.executable, str(REPO / "deploy" / "deploy.py"), "--project", "p", "--region", "r", "--bucket", "b"]
    result = subprocess.run([*argv, "--postgres-uri", uri], capture_output=True, text=True, check=False, env=env)
    assert result.returncode == 0, result.stderr
    recorded = [json.loads(line) for line in calls.read_text().splitlines()]
    assert not any("w0rd" in part for call in recorded for part in call["argv"])
    assert "w0rd" not in result.stdout + result.stderr
    (secret,) = [c for c in recorded if c["argv"][:3] == ["secrets", "versions", "add"]]
    assert secret["stdin"] == uri
    deleted = [c["argv"][2:] for c in recorded if c["argv"][:2] == ["storage", "rm"]]
    assert deleted == [["gs://env-bucket/dags/taxi_old_workflow.py"]]  # the bundle's own, by name; nothing else
    (listing,) = [c for c in recorded if c["argv"][:3] == ["storage", "cp", "-"]]
    assert listing["stdin"].split() == [p.name for p in sorted((REPO / "dags").glob("*.py"))]
    binding = next(c for c in recorded if c["argv"][:2] == ["secrets", "add-iam-policy-binding"])
    assert "--member=serviceAccount:taxi-flows@p.iam.gserviceaccount.com" in binding["argv"]


@pytest.mark.parametrize(
    ("image", "refused"),
    [
        ("composer-3-airflow-3.3.1-build.0", False),
        ("composer-3-airflow-3.1.7-build.13", False),
        ("composer-3-airflow-2.10.5-build.15", False),
        ("composer-3-airflow-3.0.1-build.5", True),
        ("composer-2.9.7-airflow-2.9.3", True),
        ("composer-3-airflow-3.4.0-build.0", True),
    ],
)
def test_deploy_refuses_an_airflow_the_bundle_does_not_support(image, refused):
    argv = [
        sys.executable,
        str(REPO / "deploy" / "deploy.py"),
        "--project",
        "p",
        "--region",
        "r",
        "--bucket",
        "b",
        "--dry-run",
        "--image-version",
        image,
    ]
    result = subprocess.run(argv, capture_output=True, text=True, check=False)
    if refused:
        assert result.returncode == 2
        assert "which taxi-flows does not support" in result.stderr
        assert "composer-3-airflow-3.3.1-build.0" in result.stderr  # names the supported builds
        assert "gcloud storage" not in result.stdout
        allowed = subprocess.run([*argv, "--allow-untested-airflow"], capture_output=True, text=True, check=False)
        assert allowed.returncode == 0
        assert "UNSUPPORTED, deploying anyway" in allowed.stdout
    else:
        assert result.returncode == 0, result.stderr
        assert f"# {image}: a supported Airflow" in result.stdout


def test_terraform_s_default_image_is_the_newest_build_ci_tests():
    variables = (TERRAFORM / "variables.tf").read_text()
    newest = "composer-3-airflow-3.3.1-build.0"
    assert f'default     = "{newest}"' in variables
    assert (REPO / "locks" / "airflow-3.3.1.in").read_text().count(newest) == 1
