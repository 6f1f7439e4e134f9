"""The package's layout rules: a Django-free core, no import cycle, small modules."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kuzzle_events"
ROOT = PACKAGE.parent


def modules() -> dict[str, Path]:
    """Every module of the package by dotted name (packages by their ``__init__``)."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def runtime_imports(path: Path, name: str, known: set[str]) -> set[str]:
    """Package modules that ``path`` imports when run, at module level or in a function.

    Imports under ``if TYPE_CHECKING:`` are left out. ``from a import b`` counts for ``a.b`` when
    that is a module, else for ``a``; the parent packages Python initialises on the way are not
    counted (a package's ``__init__`` importing its own modules is how packages work).
    """
    tree = ast.parse(path.read_text(), str(path))
    is_package = path.name == "__init__.py"
    targets: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if _type_checking_only(child):
                continue
            if isinstance(child, ast.Import):
                targets.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = name.split(".") if is_package else name.split(".")[:-1]
                    anchor = anchor[: len(anchor) - child.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in child.names:
                    submodule = f"{base}.{alias.name}"
                    targets.add(submodule if submodule in known else base)
            visit(child)

    visit(tree)
    return {t for t in targets if t in known and t != name}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := walk(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := walk(node)):
            return cycle
    return None


def test_no_runtime_import_cycle() -> None:
    found = modules()
    graph = {name: runtime_imports(path, name, set(found)) for name, path in found.items()}
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_the_cycle_finder_finds_cycles() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


CORE_WITHOUT_DJANGO = """
import importlib, importlib.abc, pkgutil, sys

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"django", "rest_framework", "channels"}:
            raise ImportError(f"{name} is not importable here")
        return None

sys.meta_path.insert(0, Refuse())
import kuzzle_events.core as core
names = [m.name for m in pkgutil.walk_packages(core.__path__, "kuzzle_events.core.")]
for name in names:
    importlib.import_module(name)
print(len(names))
"""


def test_core_imports_without_django() -> None:
    """Every module of ``core`` imports with Django, DRF and Channels made unimportable."""
    result = subprocess.run(
        [sys.executable, "-c", CORE_WITHOUT_DJANGO], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 10  # the walk found the core's modules


def test_the_django_refusal_is_real() -> None:
    script = CORE_WITHOUT_DJANGO.replace("import kuzzle_events.core as core", "import django.conf")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode != 0 and "not importable here" in result.stderr


def test_importing_the_package_builds_nothing() -> None:
    """``import kuzzle_events`` imports no other module of the package and builds no application."""
    script = "import sys, kuzzle_events; print(sorted(m for m in sys.modules if m.startswith('kuzzle_events')))"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.stdout.strip() == "['kuzzle_events']", result.stdout + result.stderr


@pytest.mark.parametrize("name", sorted(modules()))
def test_module_is_small(name: str) -> None:
    lines = modules()[name].read_text().count("\n")
    assert lines <= 400, f"{name} has {lines} lines"


@pytest.mark.parametrize("module", ["kuzzle_events.application", "kuzzle_events.testing.plugin"])
def test_imports_before_django_is_set_up(module: str) -> None:
    """What a project imports in its settings, and the pytest plugin pytest loads before
    pytest-django sets Django up, import with no settings: no model is touched at import."""
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    script = f"import {module}"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
