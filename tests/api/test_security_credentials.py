"""The credentials actions of the security controller (kuzzle_events.api.security_credentials)."""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async

from kuzzle_events import Application
from tests.api.test_auth import login
from tests.api.test_security import admin, make_default_user  # noqa: F401 (fixture)


async def test_local_credentials_of_a_user(started: Application, admin: Any) -> None:  # noqa: F811
    made = await admin("createUser", _id="bob", body={"content": {"profileIds": ["default"]}})
    assert made["status"] == 200, made["error"]

    async def cred(action: str, **args: Any) -> Any:
        return await admin(action, strategy="local", **args)

    assert (await cred("hasCredentials", _id="bob"))["result"] is False
    assert (await cred("getCredentials", _id="bob"))["error"]["id"] == "services.storage.not_found"
    valid = await cred("validateCredentials", _id="bob", body={"username": "bob", "password": "bob-secret"})
    assert valid["result"] is True, valid["error"]
    created = await cred("createCredentials", _id="bob", body={"username": "bob", "password": "bob-secret"})
    assert created["result"] == {"username": "bob", "kuid": "bob"}
    again = await cred("createCredentials", _id="bob", body={"username": "bob", "password": "bob-secret"})
    assert again["error"]["id"] == "security.credentials.rejected"
    assert (await cred("hasCredentials", _id="bob"))["result"] is True
    assert (await login(started, "bob", "bob-secret"))["status"] == 200
    assert (await cred("getCredentials", _id="bob"))["result"] == {"username": "bob", "kuid": "bob"}
    assert (await cred("getCredentialsById", _id="bob"))["result"] == {"username": "bob", "kuid": "bob"}
    taken = await cred("validateCredentials", body={"username": "root", "password": "long-password"})
    assert taken["error"]["id"] == "security.credentials.rejected"
    updated = await cred("updateCredentials", _id="bob", body={"password": "bob-new-secret"})
    assert updated["result"] == {"username": "bob", "kuid": "bob"}
    assert (await login(started, "bob", "bob-secret"))["status"] == 401
    found = await cred("searchUsersByCredentials", body={"query": {"term": {"username": "bob"}}})
    assert found["result"] == {"hits": [{"username": "bob", "kuid": "bob"}], "total": 1}
    assert (await cred("deleteCredentials", _id="bob"))["result"] == {"acknowledged": True}
    assert (await login(started, "bob", "bob-new-secret"))["status"] == 401
    assert (await cred("getCredentialFields"))["result"] == ["username", "password"]
    assert (await admin("getAllCredentialFields"))["result"] == {"local": ["username", "password"]}
    unknown = await admin("hasCredentials", strategy="oauth", _id="bob")
    assert unknown["error"]["id"] == "security.credentials.unknown_strategy"
    assert (await cred("hasCredentials", _id="nobody"))["result"] is False


async def test_created_users_have_their_strategy(started: Application, admin: Any) -> None:  # noqa: F811
    await sync_to_async(make_default_user)("carol")
    assert (await admin("getUserStrategies", _id="carol"))["result"]["strategies"] == ["local"]
