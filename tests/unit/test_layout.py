"""The shared package's layout holds: no import cycles (lazy imports inside functions count too),
no formatter opt-outs in the bundle's code, modules short enough to read, empty package inits."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.depends_on()  # the source files, read as text and syntax trees

REPO = Path(__file__).resolve().parents[2]
INCLUDE = REPO / "include"
PACKAGE = INCLUDE / "taxi_flows"
MODULES = sorted(PACKAGE.rglob("*.py"))
MAX_LINES = 250


def module_name(path: Path) -> str:
    parts = path.relative_to(INCLUDE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def exists(name: str) -> bool:
    base = INCLUDE.joinpath(*name.split("."))
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def imported_modules(path: Path) -> set[str]:
    """Every taxi_flows module the file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("taxi_flows")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("taxi_flows"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if exists(submodule) else node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    return {module_name(p): imported_modules(p) - {module_name(p)} for p in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_of_the_package_imports_another_in_a_cycle():
    graph = import_graph()
    assert "taxi_flows.orchestration.tasks" in graph  # the graph is the package's
    assert cycles(graph) == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_a_module_is_short_or_says_why_not(path):
    lines = len(path.read_text().splitlines())
    docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
    assert lines <= MAX_LINES or "long because" in docstring, f"{path.name}: {lines} lines"


def test_package_inits_only_document():
    """Except that the package's own sets the process's Arrow allocator: it must come before pyarrow's
    import, and importing any module of the package runs it first."""
    for init in PACKAGE.rglob("__init__.py"):
        body = ast.parse(init.read_text()).body
        if init.parent == PACKAGE:
            code = ast.unparse([n for n in body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))])
            assert code.replace("\n", " ") == (
                "import os import sys if sys.platform == 'linux':     "
                "os.environ.setdefault('ARROW_DEFAULT_MEMORY_POOL', 'jemalloc')"
            ), code
            continue
        assert all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body), init


def test_no_formatter_opt_outs_in_the_bundle_s_code():
    marked = [
        f"{p.relative_to(REPO)}:{i}"
        for folder in ("include", "dags")
        for p in sorted((REPO / folder).rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if "fmt: skip" in line or "fmt: off" in line
    ]
    assert marked == []


def test_the_readme_gives_every_module_a_role_and_its_answers_name_files():
    readme = (REPO / "README.md").read_text()
    listed = set(re.findall(r"^\| `([\w/]+\.py)`(?:, `[\w/]+/`)? \|", readme, re.MULTILINE))
    modules = {p.relative_to(PACKAGE).as_posix() for p in MODULES if p.name != "__init__.py"}
    assert modules == listed
    where = readme.split("Where is…", 1)[1].split("\n## ", 1)[0]
    answers = re.findall(r"^- .*\? `([^`]+)`$", where, re.MULTILINE)
    assert len(answers) == 6
    assert all((REPO / answer).is_file() for answer in answers), answers
