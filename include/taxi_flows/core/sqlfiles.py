"""The SQL files of the bundle, shipped with the package: each target's in its own sql/ folder."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(package: str, name: str) -> str:
    """The text of <package>/sql/<name>, e.g. load("taxi_flows.postgres", "replace_month_partition.sql")."""
    return resources.files(package).joinpath("sql", name).read_text()
