"""Every command the README and the DAGs' docs (doc_md) show, checked as far as it can be here.

The commands come from the README's ```sh blocks and from inline code that starts with a command,
in the README and in each DAG file's docstring (its doc_md). Each is
checked by what it is: a make target exists; an airflow subcommand exists and takes the flags
used; the deploy script takes its flags (and its dry run runs); docker compose uses a profile and
services the compose file has; terraform's -var names are variables; files it copies exist.
`make test` itself runs in CI (.ci/run calls `make test-all`); `make demo` is not run there: run it
after a change to the workflows or to taxi_dev. The `airflow` commands are checked on each leg of
another Airflow minor release; the rest once, on the main leg.
A command of a kind this test does not know fails it: extend the checks with the README.
"""

from __future__ import annotations

import argparse
import ast
import functools
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
DAG_DOCS = "\n".join(ast.get_docstring(ast.parse(p.read_text())) or "" for p in sorted((REPO / "dags").glob("*.py")))
STARTS = (
    "make ",
    "airflow ",
    "python3 ",
    "python ",
    "docker compose ",
    "terraform ",
    "psql ",
    "cp ",
    "source ",
    "cd ",
    "unset ",
    "export ",
    "gcloud ",
    "pyenv ",
    "open ",
)


def readme_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.DOTALL):
        text = block.replace("\\\n", " ")
        commands += [line.strip() for line in text.splitlines() if line.strip()]
    for inline in re.findall(r"`([^`\n]+)`", README + "\n" + DAG_DOCS):
        if inline.startswith(STARTS) and " " in inline:
            commands.append(inline)
    return sorted(set(commands))


def words(command: str) -> list[str]:
    parts = shlex.split(command, comments=True)
    while parts and re.fullmatch(r"[A-Z_]+=\S*", parts[0]):  # VAR=value make demo
        parts = parts[1:]
    return parts


@functools.cache
def make_targets() -> set[str]:
    return set(re.findall(r"^([a-z][a-z-]*):", (REPO / "Makefile").read_text(), re.MULTILINE))


@functools.cache
def airflow_cli(*args: str) -> str:
    """What the `airflow` command prints (standard output and error) for these arguments."""
    airflow = str(Path(sys.executable).with_name("airflow"))
    result = subprocess.run([airflow, *args], capture_output=True, text=True, check=False, timeout=120)
    return result.stdout + result.stderr


@functools.cache
def airflow_parser() -> argparse.ArgumentParser:
    """The installed Airflow's own CLI parser, the one `airflow` runs (built in this process once:
    a `--help` subprocess per command cost 1.3 to 2 s each)."""
    from airflow.cli.cli_parser import get_parser

    return get_parser()


@functools.cache
def airflow_help(*path: str) -> str:
    """What `airflow <path> --help` prints."""
    parser = airflow_parser()
    for depth, name in enumerate(path, 1):
        commands = next((a.choices for a in parser._actions if isinstance(a, argparse._SubParsersAction)), {})
        assert name in commands, f"airflow {' '.join(path[:depth])} is not a command"
        parser = commands[name]
    return parser.format_help()


def check_airflow(parts: list[str]) -> None:
    """Against the installed Airflow: each leg of the version matrix checks the README's commands
    for its own version (Airflow 2's `dags backfill`, Airflow 3's `backfill create`)."""
    from taxi_flows.orchestration.compat import AIRFLOW_3, AIRFLOW_VERSION

    group, sub = parts[1], parts[2]
    if AIRFLOW_3 and (group, sub) == ("dags", "backfill"):  # the README's Airflow 2 commands: gone in Airflow 3
        assert "has been removed" in airflow_cli(group, sub, "--help")
        return
    if not AIRFLOW_3 and group == "backfill":
        pytest.skip(f"an Airflow 3 command; this leg runs Airflow {AIRFLOW_VERSION}")
    text = airflow_help(group, sub)
    for flag in (p.split("=")[0] for p in parts[3:] if p.startswith("-")):
        assert re.search(rf"(^|[\s,]){re.escape(flag)}([\s,=]|$)", text, re.MULTILINE), f"airflow {group} {sub}: {flag}"
    if group == "dags" and len(parts) > 3 and not parts[3].startswith("-") and not parts[3].isupper():  # DAG: a name
        assert (REPO / "dags" / f"{parts[3]}.py").exists(), f"no DAG {parts[3]}"


def check_python(parts: list[str]) -> None:
    if parts[1] == "-m":
        module = parts[2]
        script = [sys.executable, "-m", module]
    else:
        assert (REPO / parts[1]).exists(), parts[1]
        script = [sys.executable, str(REPO / parts[1])]
    if "--dry-run" in parts:
        subprocess.run([*script, *parts[len(script) :]], cwd=REPO, check=True, capture_output=True, timeout=60)
        return
    env = {"PYTHONPATH": f"{REPO / 'include'}:{REPO}"}
    text = subprocess.run([*script, "--help"], cwd=REPO, capture_output=True, text=True, check=True, env=env).stdout
    for flag in (p for p in parts if p.startswith("--")):
        assert flag in text, f"{parts[1]}: {flag}"


def check_docker(parts: list[str]) -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yaml").read_text())
    profiles = {p for s in compose["services"].values() for p in s.get("profiles", [])}
    if "--profile" in parts:
        assert parts[parts.index("--profile") + 1] in profiles
    sub = next(p for p in parts[2:] if not p.startswith("-") and p not in profiles)
    assert sub in ("up", "down", "exec", "logs", "ps", "build"), sub
    if sub == "exec":
        assert parts[parts.index("exec") + 1] in compose["services"]


def check_terraform(parts: list[str]) -> None:
    assert parts[1] in ("init", "apply", "plan", "destroy", "fmt", "output")
    variables = set(re.findall(r'^variable "(\w+)"', (REPO / "deploy/terraform/variables.tf").read_text(), re.M))
    for i, part in enumerate(parts):
        if part == "-var":
            assert parts[i + 1].split("=")[0] in variables, parts[i + 1]


def check(command: str) -> None:
    parts = words(command)
    if not parts:
        return
    kind = parts[0]
    if kind == "make":
        for target in (p for p in parts[1:] if "=" not in p):
            assert target in make_targets(), f"no make target {target}"
    elif kind == "airflow":
        check_airflow(parts)
    elif kind in ("python", "python3"):
        check_python(parts)
    elif kind == "docker":
        check_docker(parts)
    elif kind == "terraform":
        check_terraform(parts)
    elif kind == "cp":
        assert (REPO / parts[1]).exists(), parts[1]
    elif kind == "source":
        assert parts[1] == ".local/env.sh"  # written by the stack (taxi_dev.stack.Stack.write_env_file)
    elif kind == "cd":
        assert parts[1] in ("deploy/terraform", "../..")
    elif kind in ("unset", "export", "psql", "gcloud", "pyenv", "open"):
        pass  # environment and other programs: not this project's to run
    else:
        pytest.fail(f"the README shows a command this test does not check: {command}")


def command_param(command: str):
    """An `airflow` command is checked against the installed Airflow: on each leg of another minor
    release; the others (make, the deploy script, docker compose, terraform, files) once."""
    parts = words(command)
    version_bound = bool(parts) and parts[0] == "airflow"
    return pytest.param(command, marks=pytest.mark.depends_on(*(["airflow-release"] if version_bound else [])))


@pytest.mark.parametrize("command", [command_param(c) for c in readme_commands()])
def test_a_readme_command(command):
    check(command)


@pytest.mark.depends_on
def test_the_readme_shows_the_two_commands():
    commands = readme_commands()
    assert any(c.startswith("make demo") for c in commands)
    assert any(c.startswith("make test") for c in commands)
    assert "make test" in (REPO / ".ci" / "run").read_text()
