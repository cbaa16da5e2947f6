"""The SQL files of the bundle (include/taxi_flows/sql/), shipped with the package."""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    return resources.files("taxi_flows").joinpath("sql", name).read_text()
