"""Searches and scrolls of the security controller (kuzzle_events.api.security_search)."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from kuzzle_events import Application
from tests.api.test_auth import call
from tests.api.test_security import admin, make_default_user  # noqa: F401 (fixture)


def ids(answer: dict[str, Any]) -> list[str]:
    assert answer["status"] == 200, answer["error"]
    return [hit["_id"] for hit in answer["result"]["hits"]]


async def test_roles_and_profiles_by_query(started: Application, admin: Any) -> None:  # noqa: F811
    for name in ("kite-surf-1", "kite-surf-2"):
        body = {"tags": ["kite-surf"], "controllers": {"*": {"actions": {"*": True}}}}
        await admin("createRole", _id=name, body=body)
        await admin("createProfile", _id=name, body={"tags": ["kite-surf"], "policies": [{"roleId": "default"}]})
    query = {"query": {"term": {"tags": "kite-surf"}}}
    assert ids(await admin("searchRoles", body=query)) == ["kite-surf-1", "kite-surf-2"]
    assert ids(await admin("searchProfiles", body=query)) == ["kite-surf-1", "kite-surf-2"]
    by_role = await admin("searchProfiles", body={"roles": ["default"]})
    assert ids(by_role) == ["default", "kite-surf-1", "kite-surf-2"]
    both = await admin("searchRoles", body={"controllers": ["auth"], "query": {"match_all": {}}})
    assert both["status"] == 400
    koncorde = await admin("searchProfiles", lang="koncorde", body={"query": {"exists": "tags"}})
    assert ids(koncorde) == ["kite-surf-1", "kite-surf-2"]
    bad_lang = await admin("searchRoles", lang="sql", body={})
    assert bad_lang["error"]["id"] == "api.assert.invalid_argument"


async def test_users_with_koncorde_and_pages(started: Application, admin: Any) -> None:  # noqa: F811
    for kuid in ("test-user", "test-user2"):
        await sync_to_async(make_default_user)(kuid)
    query = {"query": {"terms": {"_id": ["test-user", "test-user2"]}}}
    assert ids(await admin("searchUsers", body=query)) == ["test-user", "test-user2"]
    past = await admin("searchUsers", body=query, **{"from": 2, "size": 10})
    assert past["result"]["hits"] == [] and past["result"]["total"] == 2
    backwards = await admin("searchUsers", body={**query, "sort": [{"_id": "desc"}]})
    assert ids(backwards) == ["test-user2", "test-user"]
    bad_sort = await admin("searchUsers", body={**query, "sort": 3})
    assert bad_sort["error"]["id"] == "api.assert.invalid_type"
    koncorde = {"query": {"ids": {"values": ["test-user", "test-user2"]}}}
    assert ids(await admin("searchUsers", body=koncorde, lang="koncorde")) == ["test-user", "test-user2"]


async def test_scroll_users_batch_by_batch(started: Application, admin: Any) -> None:  # noqa: F811
    for kuid in ("a1", "a2", "a3", "a4", "a5"):
        await sync_to_async(make_default_user)(kuid)
    query = {"query": {"terms": {"_id": ["a1", "a2", "a3", "a4", "a5"]}}}
    first = await admin("searchUsers", body=query, size=2, scroll="1m")
    assert ids(first) == ["a1", "a2"] and first["result"]["total"] == 5
    seen, scroll_id = [], first["result"]["scrollId"]
    while True:
        more = await admin("scrollUsers", scrollId=scroll_id)
        if not more["result"]["hits"]:
            break
        seen += ids(more)
        scroll_id = more["result"]["scrollId"]
    assert seen == ["a3", "a4", "a5"]
    assert "scrollId" not in (await admin("searchUsers", body=query))["result"]
    bogus = await admin("scrollUsers", scrollId="not-a-cursor")
    assert (bogus["status"], bogus["error"]["id"]) == (404, "services.storage.unknown_scroll_id")
    # A cursor of users does not scroll profiles.
    wrong_kind = await admin("scrollProfiles", scrollId=first["result"]["scrollId"])
    assert wrong_kind["error"]["id"] == "services.storage.unknown_scroll_id"


async def test_scroll_profiles_and_expiry(started: Application, admin: Any, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    first = await admin("searchProfiles", body={}, size=2, scroll="1s")
    assert ids(first) == ["admin", "anonymous"]
    rest = await admin("scrollProfiles", scrollId=first["result"]["scrollId"])
    assert ids(rest) == ["default"]
    import time as real_time

    later = real_time.time() + 5
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    expired = await admin("scrollProfiles", scrollId=first["result"]["scrollId"])
    assert expired["error"]["id"] == "services.storage.unknown_scroll_id"


async def test_restricted_callers_cannot_search(started: Application, admin: Any) -> None:  # noqa: F811
    await sync_to_async(make_default_user)("ada")
    from tests.api.test_auth import login

    jwt = (await login(started))["result"]["jwt"]
    refused = await call(started, controller="security", action="scrollUsers", scrollId="x", jwt=jwt)
    assert refused["error"]["id"] == "security.rights.forbidden"
