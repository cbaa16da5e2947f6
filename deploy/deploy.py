#!/usr/bin/env python3
"""Deploy taxi-flows to a Cloud Composer 3 environment (made by deploy/terraform, or your own).

    python deploy/deploy.py --project my-project --region europe-west1 --environment taxi-flows \\
        --bucket my-taxi-bucket [--dataset ny_taxi] [--location EU] [--postgres-uri URI] [--dry-run]
        [--image-version composer-3-airflow-3.3.1-build.0] [--allow-untested-airflow]

What it runs, in order (--dry-run prints every command and runs none):

1. reads the environment's image (its Airflow version) and DAG folder (gs://<composer bucket>/dags),
   and refuses an Airflow the bundle does not support (SUPPORTED below: the Composer builds the
   version matrix of CI tests);
2. syncs the shared package include/taxi_flows/ to <dags>/taxi_flows/ (Composer syncs only dags/
   and plugins/ from its bucket; the dags folder is on sys.path, so `import taxi_flows` works,
   and dags/.airflowignore keeps the dag-processor out of it), deleting stale files in that
   folder only; then copies the bundle's plugin (its timetables and coverage page) and DAG files by name. Other
   DAGs and plugins of a shared environment are never deleted or overwritten;
3. installs the PyPI packages of requirements.txt in the environment;
4. sets the environment variables the DAGs read at parse time (TAXI_BQ_LOCATION, TAXI_CATCHUP);
5. sets the Airflow Variables taxi_gcs_bucket, taxi_bq_dataset, taxi_source_base_url;
6. creates the pool taxi_postgres;
7. with --postgres-uri, stores the connection taxi_postgres in Secret Manager (secret
   airflow-connections-taxi_postgres, readable by the environment's service account) and points
   Airflow's secrets backend at it. The URI reaches gcloud on its standard input, never on its
   command line, and is masked in what is printed. google_cloud_default needs nothing: Composer's
   is the environment's service account.

The DAG files the last deploy copied are listed in <bucket>/data/taxi_flows/deployed-dag-files.txt:
a DAG file the bundle no longer ships is deleted by name; no other file is.

Needs the gcloud CLI, logged in with rights on the environment. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "include"))  # taxi_flows.core.redact: standard library only, as this script

from taxi_flows.core.redact import redact  # noqa: E402

# The Airflow series the bundle supports, each with the Cloud Composer build whose packages a leg of
# CI's version matrix reproduces (README, "Supported Airflow versions"; locks/).
SUPPORTED = {
    "2.10": "composer-3-airflow-2.10.5-build.15",
    "3.1": "composer-3-airflow-3.1.0-build.2",
    "3.3": "composer-3-airflow-3.3.1-build.0",
}
# What a dry run checks when no --image-version is given: Terraform's default image.
DEFAULT_IMAGE = "composer-3-airflow-3.3.1-build.0"
DEFAULT_SOURCE = "https://github.com/DataTalksClub/nyc-tlc-data/releases/download"
POOL_SLOTS = 2
EXCLUDE = r".*__pycache__.*|.*\.pyc$"


def composer_requirements(requirements: Path, out: Path) -> Path:
    """requirements.txt without comments and blank lines: what Composer's PyPI packages take."""
    lines = [line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(line for line in lines if line) + "\n")
    return out


def bundle_files(folder: str, *patterns: str) -> list[str]:
    """The bundle's own files of a folder (relative paths, sorted)."""
    found = {p for pattern in patterns for p in Path(folder).glob(pattern) if p.is_file()}
    return sorted(p.as_posix() for p in found)


def mask(command: list[str]) -> str:
    """The command as a shell line, with the userinfo and the secret query values of every URI
    replaced by *** (taxi_flows.core.redact: a password with @ in it, an empty user name,
    ?password=…)."""
    return shlex.join(redact(part) for part in command)


SECRETS_BACKEND = "airflow.providers.google.cloud.secrets.secret_manager.CloudSecretManagerBackend"
CONNECTION_SECRET = "airflow-connections-taxi_postgres"  # noqa: S105 - a name: the backend's default prefix + conn id
DAG_FILE = re.compile(r"^[\w.-]+\.py$")


@dataclass
class Step:
    """One gcloud command; stdin: what it reads on its standard input (a secret goes there, never on
    argv), shown: what a dry run prints for it; may_fail: a failure does not stop the deploy."""

    command: list[str]
    stdin: str | None = None
    shown: str | None = None
    may_fail: bool = False

    def line(self) -> str:
        return f"$ {mask(self.command)}" + (f" < ({self.shown})" if self.stdin is not None else "")


def deployed_list(dag_prefix: str) -> str:
    """The object that lists the DAG files of the last deploy (in the environment's data folder)."""
    return f"{dag_prefix.rsplit('/dags', 1)[0]}/data/taxi_flows/deployed-dag-files.txt"


def stale_dag_files(previous: str, shipped: list[str]) -> list[str]:
    """The DAG files a previous deploy copied (its list) that this one does not ship: only plain
    file names of .py files, so nothing else can be deleted through the list."""
    names = {Path(p).name for p in shipped}
    return sorted({n.strip() for n in previous.splitlines() if DAG_FILE.match(n.strip())} - names)


def plan(
    args: argparse.Namespace, dag_prefix: str, requirements: Path, service_account: str, stale: list[str]
) -> list[Step]:
    env = ["--location", args.region, "--project", args.project]
    run = ["gcloud", "composer", "environments", "run", args.environment, *env]
    update = ["gcloud", "composer", "environments", "update", args.environment, *env]
    root = dag_prefix.rsplit("/dags", 1)[0]
    dag_files = bundle_files("dags", "*.py", ".airflowignore")
    commands = [
        [
            "gcloud",
            "storage",
            "rsync",
            "include/taxi_flows",
            f"{dag_prefix}/taxi_flows",
            "--recursive",
            "--delete-unmatched-destination-objects",
            f"--exclude={EXCLUDE}",
        ],
        # The DAG files by name, next to whatever else the environment runs.
        ["gcloud", "storage", "cp", *dag_files, f"{dag_prefix}/"],
        [*update, "--update-pypi-packages-from-file", str(requirements)],
        [*update, "--update-env-variables", f"TAXI_BQ_LOCATION={args.location},TAXI_CATCHUP=false"],
        [*run, "variables", "set", "--", "taxi_gcs_bucket", args.bucket],
        [*run, "variables", "set", "--", "taxi_bq_dataset", args.dataset],
        [*run, "variables", "set", "--", "taxi_source_base_url", args.source_base_url],
        [*run, "pools", "set", "--", "taxi_postgres", str(POOL_SLOTS), "Loads into the taxi_postgres database"],
    ]
    plugins = bundle_files("plugins", "*.py")
    if plugins:  # after the package the plugin imports, before the DAGs whose timetables it registers
        commands.insert(1, ["gcloud", "storage", "cp", *plugins, f"{root}/plugins/"])
    steps = [Step(c) for c in commands]
    shipped = "\n".join(Path(p).name for p in dag_files if p.endswith(".py")) + "\n"
    listing = Step(["gcloud", "storage", "cp", "-", deployed_list(dag_prefix)], shipped, "this deploy's DAG files")
    after_dags = 3 if plugins else 2
    steps.insert(after_dags, listing)
    if stale:  # the bundle's own DAG files of an earlier deploy, by name
        steps.insert(after_dags, Step(["gcloud", "storage", "rm", *(f"{dag_prefix}/{name}" for name in stale)]))
    if args.postgres_uri:
        secret = ["--project", args.project]
        steps += [
            Step(
                ["gcloud", "secrets", "create", CONNECTION_SECRET, "--replication-policy=automatic", *secret],
                may_fail=True,
            ),
            Step(
                ["gcloud", "secrets", "versions", "add", CONNECTION_SECRET, "--data-file=-", *secret],
                args.postgres_uri,
                f"the connection URI: {redact(args.postgres_uri)}",
            ),
            Step(
                [
                    "gcloud",
                    "secrets",
                    "add-iam-policy-binding",
                    CONNECTION_SECRET,
                    f"--member=serviceAccount:{service_account}",
                    "--role=roles/secretmanager.secretAccessor",
                    *secret,
                ]
            ),
            Step([*update, f"--update-airflow-configs=secrets-backend={SECRETS_BACKEND}"]),
            # A connection of an earlier deploy in the metadata database (the backend comes first anyway).
            Step([*run, "connections", "delete", "--", "taxi_postgres"], may_fail=True),
        ]
    return steps


def describe(args: argparse.Namespace) -> tuple[str, str, str]:
    """(image version, DAG folder, service account) of the environment, from `gcloud composer
    environments describe` (in a dry run: --image-version or Terraform's default image, --dag-prefix
    or a placeholder, and a placeholder)."""
    command = [
        "gcloud",
        "composer",
        "environments",
        "describe",
        args.environment,
        "--location",
        args.region,
        "--project",
        args.project,
        "--format=json",
    ]
    print(f"$ {mask(command)}", flush=True)
    if args.dry_run:
        return args.image_version or DEFAULT_IMAGE, args.dag_prefix or "gs://COMPOSER_BUCKET/dags", "SERVICE_ACCOUNT"
    config = json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)["config"]
    account = config.get("nodeConfig", {}).get("serviceAccount", "")
    return config["softwareConfig"]["imageVersion"], args.dag_prefix or config["dagGcsPrefix"], account


def check_airflow(image: str) -> str | None:
    """None when the image's Airflow is supported, else the reason, naming the supported builds."""
    match = re.fullmatch(r"composer-\d+(?:\.\d+)*-airflow-(\d+)\.(\d+)\.(\d+)(?:-build\.\d+)?", image)
    builds = ", ".join(SUPPORTED.values())
    if not match:
        return f"cannot tell the Airflow version of the image {image!r}; supported builds: {builds}"
    series = f"{match[1]}.{match[2]}"
    if series not in SUPPORTED:
        return (
            f"{image} runs Airflow {match[1]}.{match[2]}.{match[3]}, which taxi-flows does not support: use an "
            f"image of Airflow {', '.join(SUPPORTED)} (CI tests the builds {builds}), or pass "
            "--allow-untested-airflow to deploy anyway"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", required=True)
    parser.add_argument("--region", required=True)
    parser.add_argument("--environment", default="taxi-flows")
    parser.add_argument("--bucket", required=True, help="the data bucket (Variable taxi_gcs_bucket)")
    parser.add_argument("--dataset", default="ny_taxi", help="the BigQuery dataset (Variable taxi_bq_dataset)")
    parser.add_argument("--location", default="EU", help="of the dataset: TAXI_BQ_LOCATION")
    parser.add_argument("--source-base-url", default=DEFAULT_SOURCE, help="Variable taxi_source_base_url")
    parser.add_argument("--postgres-uri", help="connection taxi_postgres, e.g. postgresql://taxi:PASSWORD@IP:5432/taxi")
    parser.add_argument("--dag-prefix", help="the DAG folder, if known (else asked from gcloud)")
    parser.add_argument("--image-version", help="the environment's image, for a dry run (else Terraform's default)")
    parser.add_argument(
        "--allow-untested-airflow",
        action="store_true",
        help="deploy to an Airflow version the bundle does not support (at your risk)",
    )
    parser.add_argument("--dry-run", action="store_true", help="print every command, run none")
    args = parser.parse_args(argv)

    os.chdir(REPO)  # the paths in the commands are the repository's
    requirements = composer_requirements(Path("requirements.txt"), Path(".deploy") / "requirements-composer.txt")
    image, prefix, service_account = describe(args)
    problem = check_airflow(image)
    if problem and not args.allow_untested_airflow:
        print(f"refused: {problem}", file=sys.stderr)
        return 2
    print(f"# {image}: " + (f"UNSUPPORTED, deploying anyway: {problem}" if problem else "a supported Airflow"))
    print(
        f"# deletes only stale files under {prefix}/taxi_flows/ (the bundle's package) and the bundle's own "
        f"DAG files it no longer ships (listed in {deployed_list(prefix)}); other DAGs and plugins in the "
        "environment's bucket are left as they are"
    )
    listed = Step(["gcloud", "storage", "cat", deployed_list(prefix)], may_fail=True)
    print(listed.line(), flush=True)
    previous = (
        "" if args.dry_run else subprocess.run(listed.command, capture_output=True, text=True, check=False).stdout
    )
    stale = stale_dag_files(previous, bundle_files("dags", "*.py"))
    if args.dry_run:
        print("# (a real deploy deletes, by name, the DAG files of that list that this one does not ship)")
    for step in plan(args, prefix, requirements, service_account, stale):
        print(step.line(), flush=True)
        if not args.dry_run:
            result = subprocess.run(step.command, input=step.stdin, text=True, check=False)
            if result.returncode and not step.may_fail:  # e.g. a secret or a connection that is (not) there
                print(f"failed ({result.returncode}): {mask(step.command)}", file=sys.stderr)
                return result.returncode
    print("dry run: nothing was changed" if args.dry_run else "deployed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
