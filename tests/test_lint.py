"""ruff (the rule set in pyproject.toml) over the whole tree, as part of the test command."""

import subprocess
import sys
from pathlib import Path

import pytest

# Once, on the main leg: the legs pin other ruff releases, whose rules differ.
pytestmark = pytest.mark.depends_on()

REPO = Path(__file__).resolve().parents[1]


def test_ruff_check():
    result = subprocess.run([sys.executable, "-m", "ruff", "check", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "."], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
