"""Which tests a leg of the version matrix runs: those that can break on it.

A leg differs from the main one (constraints.txt) by the versions its lock pins. The packages a
test can break on are grouped (GROUPS); a test says which groups it depends on with the marker
`depends_on(...)`, where it is (on the test, or as the module's `pytestmark`):

    pytestmark = pytest.mark.depends_on("airflow-release")   # the real scheduler, the CLI
    pytestmark = pytest.mark.depends_on()                    # none: the repository's own files

A leg runs a test when one of its groups is pinned differently there than in the main lock; the
main leg (every group as in constraints.txt) runs every test. A test without the marker depends
on every group, so a new test runs on every leg until it says otherwise. TAXI_TESTS=all runs
every test on any leg.
"""

from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAIN_LOCK = REPO / "constraints.txt"

# group: (what it stands for, the distributions in it: a name, or a prefix ending in "-")
GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "airflow": (
        "any Airflow release (its core and task SDK): DAG parsing, dag.test, operators, timetables, compat",
        ("apache-airflow", "apache-airflow-core", "apache-airflow-task-sdk"),
    ),
    "airflow-release": (
        "Airflow's minor release (2.10, 3.1, 3.3): the real scheduler, backfills, the CLI, the UI",
        (),  # derived: apache-airflow's major.minor
    ),
    "providers": (
        "the Airflow providers (google, postgres, common-sql, standard, smtp, ...)",
        ("apache-airflow-providers-",),
    ),
    "arrow": ("pyarrow, pandas and numpy: the CSV and Parquet code", ("pyarrow", "pandas", "numpy")),
    "psycopg": ("the PostgreSQL drivers", ("psycopg", "psycopg-binary", "psycopg2-binary")),
    "google-clients": (
        "the Google client libraries (storage, BigQuery, auth)",
        ("google-cloud-", "google-api-core", "google-auth", "google-resumable-media", "gcsfs"),
    ),
}
EVERY_GROUP = frozenset(GROUPS)
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", re.MULTILINE)


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_versions(path: Path = MAIN_LOCK) -> dict[str, str]:
    return {normalize(name): version for name, version in _PIN.findall(path.read_text())}


def installed_versions() -> dict[str, str]:
    return {normalize(d.metadata["Name"]): d.version for d in metadata.distributions() if d.metadata["Name"]}


def _members(group: str, names: set[str]) -> set[str]:
    patterns = GROUPS[group][1]
    return {n for n in names if any(n.startswith(p) if p.endswith("-") else n == p for p in patterns)}


def _release(version: str | None) -> str | None:
    return ".".join(version.split(".")[:2]) if version else None


def differing_groups(main: dict[str, str], here: dict[str, str]) -> dict[str, list[str]]:
    """{group: the distributions pinned differently here than in the main lock} for each group that differs."""
    differs = {}
    for group in GROUPS:
        if group == "airflow-release":
            mine, theirs = _release(here.get("apache-airflow")), _release(main.get("apache-airflow"))
            changed = [f"apache-airflow {theirs} -> {mine}"] if mine != theirs else []
        else:
            names = _members(group, set(main) | set(here))
            changed = sorted(
                f"{n} {main.get(n, '-')} -> {here.get(n, '-')}" for n in names if main.get(n) != here.get(n)
            )
        if changed:
            differs[group] = changed
    return differs


def this_leg() -> dict[str, list[str]]:
    """The groups this interpreter's packages pin differently from the main lock (empty: the main leg)."""
    return differing_groups(lock_versions(), installed_versions())


def run_everything() -> bool:
    return os.getenv("TAXI_TESTS", "").strip().lower() == "all"


def groups_of(marker) -> frozenset[str]:
    """The groups a test depends on: the marker's arguments, or every group without the marker."""
    if marker is None:
        return EVERY_GROUP
    unknown = set(marker.args) - EVERY_GROUP
    if unknown:
        raise ValueError(
            f"depends_on({', '.join(map(repr, marker.args))}): unknown group(s) {sorted(unknown)}; "
            f"the groups are {sorted(GROUPS)} (tests/support/legs.py)"
        )
    return frozenset(marker.args)


def header(differs: dict[str, list[str]]) -> list[str]:
    if not differs:
        return ["leg: the main one (every package as in constraints.txt): every test runs"]
    lines = [f"leg: differs from the main lock in {', '.join(differs)}; runs the tests that depend on one of them"]
    for group, changed in differs.items():
        shown = ", ".join(changed[:4]) + (f", and {len(changed) - 4} more" if len(changed) > 4 else "")
        lines.append(f"  {group}: {shown}")
    same = sorted(EVERY_GROUP - set(differs))
    if same:
        lines.append(f"  as on the main leg (their tests are deselected): {', '.join(same)}")
    return lines
