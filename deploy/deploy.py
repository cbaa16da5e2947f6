#!/usr/bin/env python3
"""Deploy taxi-flows to a Cloud Composer 3 environment (made by deploy/terraform, or your own).

    python deploy/deploy.py --project my-project --region europe-west1 --environment taxi-flows \\
        --bucket my-taxi-bucket [--dataset ny_taxi] [--location EU] [--postgres-uri URI] [--dry-run]

What it runs, in order (--dry-run prints every command and runs none):

1. finds the environment's DAG folder (gs://<composer bucket>/dags);
2. syncs the shared package include/taxi_flows/ to <dags>/taxi_flows/ (Composer syncs only dags/
   and plugins/ from its bucket; the dags folder is on sys.path, so `import taxi_flows` works,
   and dags/.airflowignore keeps the dag-processor out of it), then dags/, then plugins/;
3. installs the PyPI packages of requirements.txt in the environment;
4. sets the environment variables the DAGs read at parse time (TAXI_BQ_LOCATION, TAXI_CATCHUP);
5. sets the Airflow Variables taxi_gcs_bucket, taxi_bq_dataset, taxi_source_base_url;
6. creates the pool taxi_postgres;
7. with --postgres-uri, (re)creates the connection taxi_postgres (the password is masked in what
   is printed). google_cloud_default needs nothing: Composer's is the environment's service account.

Needs the gcloud CLI, logged in with rights on the environment. Standard library only.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SOURCE = "https://github.com/DataTalksClub/nyc-tlc-data/releases/download"
POOL_SLOTS = 2
EXCLUDE = r".*__pycache__.*|.*\.pyc$"


def composer_requirements(requirements: Path, out: Path) -> Path:
    """requirements.txt without comments and blank lines: what Composer's PyPI packages take."""
    lines = [line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines()]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(line for line in lines if line) + "\n")
    return out


def mask(command: list[str]) -> str:
    """The command as a shell line, with any password of a URI replaced by ***."""
    return shlex.join(re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", part) for part in command)


def plan(args: argparse.Namespace, dag_prefix: str, requirements: Path) -> list[list[str]]:
    env = ["--location", args.region, "--project", args.project]
    run = ["gcloud", "composer", "environments", "run", args.environment, *env]
    update = ["gcloud", "composer", "environments", "update", args.environment, *env]
    root = dag_prefix.rsplit("/dags", 1)[0]
    commands = [
        ["gcloud", "storage", "rsync", "include/taxi_flows", f"{dag_prefix}/taxi_flows", "--recursive",
         "--delete-unmatched-destination-objects", f"--exclude={EXCLUDE}"],
        ["gcloud", "storage", "rsync", "dags", dag_prefix, "--recursive",
         "--delete-unmatched-destination-objects", f"--exclude=taxi_flows/.*|{EXCLUDE}"],
        ["gcloud", "storage", "rsync", "plugins", f"{root}/plugins", "--recursive",
         "--delete-unmatched-destination-objects", f"--exclude={EXCLUDE}"],
        [*update, "--update-pypi-packages-from-file", str(requirements)],
        [*update, "--update-env-variables", f"TAXI_BQ_LOCATION={args.location},TAXI_CATCHUP=false"],
        [*run, "variables", "set", "--", "taxi_gcs_bucket", args.bucket],
        [*run, "variables", "set", "--", "taxi_bq_dataset", args.dataset],
        [*run, "variables", "set", "--", "taxi_source_base_url", args.source_base_url],
        [*run, "pools", "set", "--", "taxi_postgres", str(POOL_SLOTS), "Loads into the taxi_postgres database"],
    ]  # fmt: skip
    if args.postgres_uri:
        commands += [
            [*run, "connections", "delete", "--", "taxi_postgres"],
            [*run, "connections", "add", "--", "taxi_postgres", "--conn-uri", args.postgres_uri],
        ]
    return commands


def dag_folder(args: argparse.Namespace) -> str:
    command = ["gcloud", "composer", "environments", "describe", args.environment, "--location", args.region,
               "--project", args.project, "--format=value(config.dagGcsPrefix)"]  # fmt: skip
    print(f"$ {mask(command)}", flush=True)
    if args.dry_run:
        return args.dag_prefix or "gs://COMPOSER_BUCKET/dags"
    return args.dag_prefix or subprocess.run(command, check=True, capture_output=True, text=True).stdout.strip()


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
    parser.add_argument("--dry-run", action="store_true", help="print every command, run none")
    args = parser.parse_args(argv)

    os.chdir(REPO)  # the paths in the commands are the repository's
    requirements = composer_requirements(Path("requirements.txt"), Path(".deploy") / "requirements-composer.txt")
    prefix = dag_folder(args)
    for command in plan(args, prefix, requirements):
        print(f"$ {mask(command)}", flush=True)
        if not args.dry_run:
            delete = "delete" in command and "connections" in command
            result = subprocess.run(command, check=False)
            if result.returncode and not delete:  # deleting a connection that is not there is fine
                print(f"failed ({result.returncode}): {mask(command)}", file=sys.stderr)
                return result.returncode
    print("dry run: nothing was changed" if args.dry_run else "deployed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
