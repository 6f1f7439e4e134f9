"""The admin controller: loading and resetting data and security, caches, stopping the server."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.core.cache import cache

from kuzzle_events import Application
from kuzzle_events.api import admin
from kuzzle_events.models import Document, KuzzleUser, Profile, Role
from kuzzle_events.security.rights import BOOTSTRAP_ROLES
from tests.accounts import make_user
from tests.api.test_auth import call, login
from tests.servers import ROOT, UVICORN, free_port, manage, project_env, query, wait_for_healthcheck

PERMISSIONS = {
    "users": {
        "test-admin": {
            "content": {"profileIds": ["admin"]},
            "credentials": {"local": {"username": "test-admin", "password": "password"}},
        },
        "default-user": {
            "content": {"profileIds": ["default"]},
            "credentials": {"local": {"username": "default-user", "password": "password"}},
        },
    }
}


async def run(app: Application, **data: Any) -> dict[str, Any]:
    envelope = await call(app, controller="admin", **data)
    assert envelope["status"] == 200, envelope["error"]
    return envelope


async def test_load_securities_then_log_in_and_refuse_the_default_profile(started: Application) -> None:
    await run(started, action="loadSecurities", body=PERMISSIONS, refresh="wait_for")
    # (Kuzzle's base roles grant everything until restricted.)
    assert (await call(started, controller="security", action="restrictDefaultRights"))["status"] == 200
    jwt = (await login(started, "test-admin", "password"))["result"]["jwt"]
    assert (await run(started, action="resetCache", database="memoryStorage", jwt=jwt))["result"] == {
        "acknowledge": True
    }
    user_jwt = (await login(started, "default-user", "password"))["result"]["jwt"]
    refused = await call(started, controller="admin", action="resetDatabase", jwt=user_jwt)
    assert (refused["status"], refused["error"]["id"]) == (403, "security.rights.forbidden")
    anonymous = await call(started, controller="admin", action="resetDatabase")
    assert (anonymous["status"], anonymous["error"]["id"]) == (401, "security.rights.unauthorized")


async def test_load_securities_roles_profiles_and_users_without_credentials(started: Application) -> None:
    body = {
        "roles": {"coolie": {"controllers": {"*": {"actions": {"*": True}}}}},
        "profiles": {"coolie": {"policies": [{"roleId": "coolie"}]}},
        "users": {"coolie": {"content": {"profileIds": ["coolie"]}, "credentials": {}}},
    }
    await run(started, action="loadSecurities", body=body)
    user = await call(started, controller="security", action="getUser", _id="coolie")
    assert user["result"]["_source"]["profileIds"] == ["coolie"]
    role = await call(started, controller="security", action="getRole", _id="coolie")
    assert role["result"]["_source"]["controllers"] == {"*": {"actions": {"*": True}}}


async def test_load_securities_on_existing_users(started: Application) -> None:
    await run(started, action="loadSecurities", body=PERMISSIONS)
    jwt = (await login(started, "test-admin", "password"))["result"]["jwt"]
    body = {
        "users": {
            "coolie": {"content": {"profileIds": ["default"]}, "credentials": {}},
            "test-admin": {"content": {"profileIds": ["admin"]}, "credentials": {}},
        }
    }
    failed = await call(started, controller="admin", action="loadSecurities", body=body, jwt=jwt)
    assert (failed["status"], failed["error"]["id"]) == (400, "security.user.prevent_overwrite")
    assert not await sync_to_async(KuzzleUser.objects.filter(kuid="coolie").exists)()

    await run(started, action="loadSecurities", body=body, onExistingUsers="skip", jwt=jwt)
    assert await sync_to_async(KuzzleUser.objects.filter(kuid="coolie").exists)()
    # Skipped: test-admin keeps its password.
    jwt = (await login(started, "test-admin", "password"))["result"]["jwt"]

    wrong = await call(started, controller="admin", action="loadSecurities", body={}, onExistingUsers="x", jwt=jwt)
    assert wrong["error"]["id"] == "api.assert.unexpected_argument"

    await run(started, action="loadSecurities", body=PERMISSIONS, onExistingUsers="overwrite", jwt=jwt)
    assert (await login(started, "default-user", "password"))["status"] == 200


async def test_reset_security_keeps_only_the_base_roles_and_profiles(started: Application) -> None:
    await run(started, action="loadSecurities", body=PERMISSIONS)
    jwt = (await login(started, "test-admin", "password"))["result"]["jwt"]
    await run(started, action="loadSecurities", jwt=jwt, body={"roles": {"r": {"controllers": {}}}})

    def edit_default_role() -> None:
        Role.objects.filter(name="default").update(controllers={})

    await sync_to_async(edit_default_role)()
    result = (await run(started, action="resetSecurity", jwt=jwt))["result"]
    assert result == {"deletedUsers": 2, "deletedProfiles": 3, "deletedRoles": 4}

    def state() -> tuple[int, int, dict[str, Any], list[str]]:
        roles = {r.name: r.controllers for r in Role.objects.all()}
        return (
            KuzzleUser.objects.count(),
            get_user_model().objects.count(),
            roles,
            sorted(Profile.objects.values_list("name", flat=True)),
        )

    users, django_users, roles, profiles = await sync_to_async(state)()
    assert (users, django_users) == (0, 0)
    # Kuzzle's createInitialSecurities: the bootstrap roles, every action granted.
    assert roles == BOOTSTRAP_ROLES
    assert profiles == sorted(BOOTSTRAP_ROLES)
    # The token died with its user: the request is anonymous, which may do anything again.
    expired = await call(started, controller="auth", action="checkToken", body={"token": jwt})
    assert expired["result"]["valid"] is False


MAPPINGS = {
    "nyc-open-data": {"yellow-taxi": {"properties": {"name": {"type": "keyword"}}}},
    "mtp-open-data": {"green-taxi": {"properties": {"age": {"type": "integer"}}}},
}


async def test_load_mappings_fixtures_then_reset_database(started: Application) -> None:
    await run(started, action="loadMappings", body=MAPPINGS, refresh="wait_for")
    await run(started, action="loadMappings", body=MAPPINGS)  # again: nothing to create
    listed = await call(started, controller="collection", action="list", index="nyc-open-data")
    assert [c["name"] for c in listed["result"]["collections"]] == ["yellow-taxi"]

    fixtures = {
        "nyc-open-data": {
            "yellow-taxi": [
                {"create": {"_id": "a"}},
                {"name": "Ada"},
                {"index": {"_id": "b"}},
                {"name": "Bob"},
                {"create": {}},
                {"name": "Anon"},
                {"update": {"_id": "a"}},
                {"doc": {"city": "Paris"}},
                {"delete": {"_id": "b"}},
            ]
        }
    }
    await run(started, action="loadFixtures", body=fixtures, refresh="wait_for")
    doc = await call(
        started, controller="document", action="get", index="nyc-open-data", collection="yellow-taxi", _id="a"
    )
    assert doc["result"]["_source"] == {
        "name": "Ada",
        "city": "Paris",
        "_kuzzle_info": doc["result"]["_source"]["_kuzzle_info"],
    }
    assert await sync_to_async(Document.objects.count)() == 2

    again = await call(started, controller="admin", action="loadFixtures", body=fixtures)
    assert (again["status"], again["error"]["id"]) == (206, "services.storage.import_failed")
    assert again["error"]["errors"][0]["id"] == "services.storage.document_already_exists"
    missing = await call(started, controller="admin", action="loadFixtures", body={"nope": {"c": []}})
    assert missing["error"]["id"] == "services.storage.unknown_index"
    malformed = await call(
        started, controller="admin", action="loadFixtures", body={"nyc-open-data": {"yellow-taxi": [{"create": {}}]}}
    )
    assert malformed["error"]["id"] == "api.assert.invalid_argument"

    await sync_to_async(make_user)("kept")
    assert (await run(started, action="resetDatabase"))["result"] == {"acknowledge": True}
    assert (await call(started, controller="index", action="list"))["result"]["indexes"] == []
    assert await sync_to_async(KuzzleUser.objects.filter(kuid="kept").exists)()


async def test_reset_cache(started: Application) -> None:
    await sync_to_async(cache.set)("kuzzle-events-test", 1)
    assert (await run(started, action="resetCache", database="internalCache"))["result"] == {"acknowledge": True}
    assert await sync_to_async(cache.get)("kuzzle-events-test") is None
    unknown = await call(started, controller="admin", action="resetCache", database="nope")
    assert (unknown["status"], unknown["error"]["id"]) == (404, "services.cache.database_not_found")
    missing = await call(started, controller="admin", action="resetCache")
    assert missing["error"]["id"] == "api.assert.missing_argument"


async def test_shutdown_answers_then_stops_once(started: Application, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    stopped = asyncio.Event()
    monkeypatch.setattr(admin, "stop_process", stopped.set)
    monkeypatch.setattr(admin, "SHUTDOWN_DELAY", 0)
    assert (await run(started, action="shutdown"))["result"] == {"acknowledge": True}
    assert not stopped.is_set()  # answered first
    await asyncio.wait_for(stopped.wait(), timeout=5)
    again = await call(started, controller="admin", action="shutdown")
    assert (again["status"], again["error"]["id"]) == (412, "api.process.action_locked")


def test_shutdown_stops_a_real_server(tmp_path: Path) -> None:
    env = project_env(tmp_path)
    assert manage("migrate", "--noinput", env=env).returncode == 0
    port = free_port()
    log = tmp_path / "uvicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [part.format(port=port) for part in UVICORN], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        wait_for_healthcheck("uvicorn", process, port, log.read_text, timeout=30)
        # No administrator yet: anonymous callers may run it.
        envelope = query(port, {"controller": "admin", "action": "shutdown"})
        assert envelope["result"] == {"acknowledge": True}, envelope
        returncode = process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()
