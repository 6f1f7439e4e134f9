"""Migrations: frozen in time, and the base roles and profiles they create."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kuzzle_events.models import Profile, Role

MIGRATIONS = Path(__file__).resolve().parents[2] / "kuzzle_events" / "migrations"
BASE = importlib.import_module("kuzzle_events.migrations.0003_base_roles_and_profiles")


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports, at module level or in a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def test_the_import_walk_sees_function_level_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def create(apps, schema_editor):\n    from kuzzle_events.security import store\n")
    assert imported_modules(module) == {"kuzzle_events.security"}


@pytest.mark.parametrize("path", sorted(MIGRATIONS.glob("0*.py")), ids=lambda p: p.stem)
def test_a_migration_imports_no_live_code(path: Path) -> None:
    """A later change to the package must not change what an old migration does."""
    live = {m for m in imported_modules(path) if m.startswith(("kuzzle_events", "."))}
    assert not live, f"{path.name} imports {sorted(live)}: use apps.get_model and a frozen copy of its data"


def base_data() -> tuple[dict[str, object], dict[str, list[str]]]:
    roles = {role.name: role.controllers for role in Role.objects.all()}
    profiles = {p.name: sorted(r.name for r in p.roles.all()) for p in Profile.objects.prefetch_related("roles")}
    return roles, profiles


def at_0002(name: str) -> Any:
    """A model as it was at 0002: the live one may have columns that do not exist yet."""
    state = MigrationExecutor(connection).loader.project_state(("kuzzle_events", "0002_documents"))
    return state.apps.get_model("kuzzle_events", name)


def test_migrating_a_new_database_creates_the_base_roles_and_profiles() -> None:
    call_command("migrate", "kuzzle_events", "0002", verbosity=0)
    at_0002("Profile").objects.all().delete()
    at_0002("Role").objects.all().delete()
    assert not at_0002("Role").objects.exists() and not at_0002("Profile").objects.exists()
    call_command("migrate", "kuzzle_events", verbosity=0)
    assert base_data() == (BASE.ROLES, BASE.PROFILES)


def test_the_migration_keeps_roles_that_exist() -> None:
    call_command("migrate", "kuzzle_events", "0002", verbosity=0)
    at_0002("Role").objects.update_or_create(
        name="default", defaults={"controllers": {"server": {"actions": {"now": True}}}}
    )
    call_command("migrate", "kuzzle_events", verbosity=0)
    assert Role.objects.get(name="default").controllers == {"server": {"actions": {"now": True}}}
