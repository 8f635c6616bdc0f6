"""The layers of the code hold: no import circle, the core never reaches the dashboard, data never
reaches models, models never reach the work done with them; a flat core stays flat no more."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("recsys", "dashboard")


def _module(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for package in PACKAGES for p in (REPO / package).rglob("*.py")
           if "app_pages" not in p.parts}


def _imports(path: Path) -> set[str]:
    """Every module of the project a file imports, at its top or inside a function (a submodule
    named in `from package import submodule` counts as that submodule)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                whole = f"{node.module}.{alias.name}"
                found.add(whole if whole in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


GRAPH = {name: {m for m in _imports(path) if m in MODULES} for name, path in MODULES.items()}


def test_no_import_circle():
    index, low, stack, on_stack, circles, counter = {}, {}, [], set(), [], [0]

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in GRAPH[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for node in GRAPH:
        if node not in index:
            visit(node)
    assert circles == []


def _reaches(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return [f"{name} imports {target}" for name, path in MODULES.items()
            if name == layer or name.startswith(layer + ".")
            for target in _imports(path) if any(target == f or target.startswith(f + ".") for f in forbidden)]


@pytest.mark.parametrize("layer, forbidden", [
    ("recsys", ("streamlit", "dashboard")),
    ("recsys.data", ("recsys.models", "recsys.work", "recsys.store", "recsys.evaluation", "recsys.explain",
                     "recsys.cli")),
    ("recsys.models", ("recsys.work", "recsys.store", "recsys.evaluation", "recsys.explain", "recsys.cli",
                       "dashboard")),
    # a chain's child process imports the sampler alone: a model there would load every model's libraries
    ("recsys.gibbs", ("recsys.models", "recsys.work", "recsys.store", "recsys.evaluation", "recsys.explain",
                      "recsys.cli", "dashboard")),
])
def test_layers_hold(layer, forbidden):
    assert _reaches(layer, forbidden) == []


def test_the_core_is_a_few_packages_by_concern():
    top = sorted(p.stem for p in (REPO / "recsys").glob("*.py"))
    assert len(top) <= 8, top
    assert {"data", "models", "evaluation", "store", "work", "explain"} <= {
        p.name for p in (REPO / "recsys").iterdir() if (p / "__init__.py").exists()}


@pytest.mark.parametrize("package, most", [("recsys", 400), ("dashboard", 350)])
def test_no_source_file_holds_too_much(package, most):
    long = {str(p.relative_to(REPO)): n for p in (REPO / package).rglob("*.py")
            if (n := len(p.read_text().splitlines())) > most}
    assert long == {}, f"split by concern: {long}"


def test_no_hallway():
    """Pages import a thing from the module it lives in: no module re-exports names it does not use."""
    hallways = [str(p.relative_to(REPO)) for package in PACKAGES for p in (REPO / package).rglob("*.py")
                if "noqa: F401" in p.read_text() and p.name != "__init__.py"]
    assert hallways == []
