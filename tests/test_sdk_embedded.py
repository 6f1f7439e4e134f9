"""``app.sdk``: API actions executed from the server's own code, through the funnel."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.errors import KuzzleError
from tests.accounts import make_user


async def test_query_returns_the_envelope(started: Application) -> None:
    envelope = await started.sdk.query({"controller": "server", "action": "now", "requestId": "r1"})
    assert (envelope["status"], envelope["requestId"], envelope["error"]) == (200, "r1", None)
    assert isinstance(envelope["result"]["now"], int)


async def test_a_failed_action_raises_its_error(started: Application) -> None:
    with pytest.raises(KuzzleError) as failure:
        await started.sdk.query({"controller": "nope", "action": "now"})
    assert failure.value.id == "api.process.controller_not_found"


async def test_server_code_is_trusted_unless_rights_are_asked_for(started: Application) -> None:
    await sync_to_async(make_user)("root", superuser=True)  # from now on, anonymous callers are restricted
    started.security.invalidate()
    request = {"controller": "security", "action": "searchUsers", "body": {}}
    assert (await started.sdk.query(request))["status"] == 200
    with pytest.raises(KuzzleError) as refused:
        await started.sdk.query(request, check_rights=True)
    assert refused.value.status == 401


async def test_without_events_no_pipe_runs(kapp: Application) -> None:
    seen: list[str] = []

    async def pipe(request: KuzzleRequest) -> Any:
        seen.append(request.input.action)
        return request

    kapp.pipe.register("server:beforeNow", pipe)
    await kapp.start()
    await kapp.sdk.query({"controller": "server", "action": "now"}, trigger_events=False)
    await kapp.sdk.query({"controller": "server", "action": "now"})
    assert seen == ["now"]
    await kapp.events.drain_hooks()


async def author_of(app: Application, doc_id: str) -> Any:
    got = await app.sdk.query({"controller": "document", "action": "get", "index": "town", "collection": "people", "_id": doc_id})
    return got["result"]["_source"]["_kuzzle_info"]["author"]


async def test_what_server_code_writes_has_no_author_unless_it_acts_as_a_user(started: Application) -> None:
    # Kuzzle's embedded SDK leaves a request without a user: _kuzzle_info.author is null.
    await started.sdk.query({"controller": "collection", "action": "create", "index": "town", "collection": "people"})
    create = {"controller": "document", "action": "create", "index": "town", "collection": "people", "body": {}}
    await started.sdk.query({**create, "_id": "by-the-server"})
    assert await author_of(started, "by-the-server") is None
    ada = await sync_to_async(make_user)("ada")
    await started.sdk.as_({"_id": ada.kuid}).query({**create, "_id": "by-ada"})
    assert await author_of(started, "by-ada") == ada.kuid
    # Kuzzle's name, a keyword in Python.
    await getattr(started.sdk, "as")({"_id": ada.kuid}).query({**create, "_id": "as-ada"})
    assert await author_of(started, "as-ada") == ada.kuid


async def test_acting_as_a_user_checks_its_rights_only_when_asked(started: Application) -> None:
    await sync_to_async(make_user)("root", superuser=True)  # anonymous and default are restricted now
    started.security.invalidate()
    ada = await sync_to_async(make_user)("ada")
    request = {"controller": "security", "action": "searchUsers", "body": {}}
    assert (await started.sdk.as_({"_id": ada.kuid}).query(request))["status"] == 200
    with pytest.raises(KuzzleError) as refused:
        await started.sdk.as_({"_id": ada.kuid}, check_rights=True).query(request)
    assert (refused.value.id, refused.value.status) == ("security.rights.forbidden", 403)
    with pytest.raises(KuzzleError) as unknown:
        await started.sdk.as_({"_id": "nobody-here"}).query(request)
    assert unknown.value.id == "security.user.not_found"
    for bad in ({}, {"_id": 42}, "ada", None):
        with pytest.raises(KuzzleError) as invalid:
            started.sdk.as_(bad)  # type: ignore[arg-type]
        assert invalid.value.id == "plugin.context.invalid_user"


async def test_server_code_subscribes_to_realtime_notifications(
    started: Application, caplog: pytest.LogCaptureFixture
) -> None:
    import asyncio

    await started.sdk.query({"controller": "collection", "action": "create", "index": "town", "collection": "people"})
    seen: list[dict[str, Any]] = []
    received = asyncio.Event()

    async def callback(notification: dict[str, Any]) -> None:
        seen.append(notification)
        received.set()

    def broken(notification: dict[str, Any]) -> None:
        raise RuntimeError("callback bug")

    realtime = started.sdk.realtime
    room = await realtime.subscribe("town", "people", {"equals": {"name": "Luca"}}, callback)
    other = await realtime.subscribe("town", "people", {}, broken)
    assert await realtime.count(room) == 1
    create = {"controller": "document", "action": "create", "index": "town", "collection": "people"}
    await started.sdk.query({**create, "_id": "x", "body": {"name": "Ada"}})
    await started.sdk.query({**create, "_id": "luca", "body": {"name": "Luca"}})
    await asyncio.wait_for(received.wait(), 5)
    assert [(n["type"], n["action"], n["result"]["_id"]) for n in seen] == [("document", "create", "luca")]
    received.clear()
    await realtime.publish("town", "people", {"name": "Luca", "said": "hi"})
    await asyncio.wait_for(received.wait(), 5)
    assert seen[-1]["action"] == "publish" and seen[-1]["result"]["_source"]["said"] == "hi"
    await realtime.unsubscribe(room)
    await realtime.unsubscribe(other)
    await started.sdk.query({**create, "_id": "luca-2", "body": {"name": "Luca"}})
    await asyncio.sleep(0.05)
    assert len(seen) == 2
    assert "a callback of app.sdk.realtime.subscribe failed" in caplog.text
    with pytest.raises(KuzzleError) as gone:
        await realtime.unsubscribe(room)
    assert gone.value.id == "core.realtime.not_subscribed"
