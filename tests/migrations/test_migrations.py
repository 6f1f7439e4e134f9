"""Migrations: frozen in time, and the base roles and profiles they create."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kuzzle_events.models import Profile, Role

MIGRATIONS = Path(__file__).resolve().parents[2] / "kuzzle_events" / "migrations"
BASE = importlib.import_module("kuzzle_events.migrations.0003_base_roles_and_profiles")
BOOTSTRAP = importlib.import_module("kuzzle_events.migrations.0010_security_bootstrap_base_roles")
EVERYTHING = {"*": {"actions": {"*": True}}}


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
    # 0003's roles, then 0010's: no administrator, so every base role grants everything, as Kuzzle's.
    assert base_data() == ({name: EVERYTHING for name in BASE.ROLES}, BASE.PROFILES)


def test_the_migration_keeps_roles_that_exist() -> None:
    call_command("migrate", "kuzzle_events", "0002", verbosity=0)
    at_0002("Role").objects.update_or_create(
        name="default", defaults={"controllers": {"server": {"actions": {"now": True}}}}
    )
    call_command("migrate", "kuzzle_events", verbosity=0)
    assert Role.objects.get(name="default").controllers == {"server": {"actions": {"now": True}}}


def at_0009_with_0003_roles() -> None:
    """Back before 0010, with the base roles as 0003 made them."""
    call_command("migrate", "kuzzle_events", "0009", verbosity=0)
    for name, controllers in BASE.ROLES.items():
        Role.objects.update_or_create(name=name, defaults={"controllers": controllers})


def test_0010_opens_the_base_roles_0003_made_when_there_is_no_administrator() -> None:
    at_0009_with_0003_roles()
    Role.objects.filter(name="default").update(controllers={"server": {"actions": {"now": True}}})
    call_command("migrate", "kuzzle_events", verbosity=0)
    roles, _ = base_data()
    # An edited role is kept.
    assert roles == {"admin": EVERYTHING, "anonymous": EVERYTHING, "default": {"server": {"actions": {"now": True}}}}
    assert BOOTSTRAP.AS_0003_LEFT_THEM == BASE.ROLES


def test_0010_keeps_the_base_roles_of_a_database_with_an_administrator() -> None:
    at_0009_with_0003_roles()
    user = get_user_model().objects.create_user("root", "root@example.com", "secret-pw")
    # A queryset update sends no signal: 0003's roles stay as they are until the migration runs.
    get_user_model().objects.filter(pk=user.pk).update(is_superuser=True)
    call_command("migrate", "kuzzle_events", verbosity=0)
    assert base_data()[0] == BASE.ROLES
