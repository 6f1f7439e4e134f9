"""Realtime: subscriptions over WebSocket, publish and document notifications, user notifications."""

from __future__ import annotations

import json
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from kuzzle_events import Application
from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer
from kuzzle_events.realtime.rooms import Rooms
from tests.api.test_auth import call


class Client:
    def __init__(self, app: Application) -> None:
        self.ws = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=app), "/")
        self.sent = 0
        # Notifications received while waiting for an answer, each client its own.
        self.early: list[dict[str, Any]] = []

    async def __aenter__(self) -> Client:
        connected, _ = await self.ws.connect()
        assert connected
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.ws.disconnect()

    async def query(self, **request: Any) -> dict[str, Any]:
        self.sent += 1
        request_id = f"r{self.sent}"
        await self.ws.send_to(text_data=json.dumps({**request, "requestId": request_id}))
        while True:
            message = json.loads(await self.ws.receive_from(timeout=5))
            if message.get("room") == request_id:
                return message
            self.early.append(message)

    async def notification(self) -> dict[str, Any]:
        if self.early:
            return self.early.pop(0)
        return json.loads(await self.ws.receive_from(timeout=5))

    async def nothing(self) -> bool:
        return not self.early and await self.ws.receive_nothing(timeout=0.3)


@pytest.fixture
async def shop(started: Application) -> Application:
    await call(started, controller="index", action="create", index="shop")
    await call(started, controller="collection", action="create", index="shop", collection="items")
    return started


CHEAP = {"range": {"price": {"lt": 10}}}


async def test_subscribe_publish_and_document_notifications(shop: Application) -> None:
    async with Client(shop) as alice:
        subscribed = await alice.query(
            controller="realtime", action="subscribe", index="shop", collection="items", body=CHEAP
        )
        assert subscribed["status"] == 200, subscribed["error"]
        room_id, channel = subscribed["result"]["roomId"], subscribed["result"]["channel"]
        assert channel.startswith(room_id)

        await call(shop, controller="realtime", action="publish", index="shop", collection="items",
                   body={"name": "pen", "price": 2}, volatile={"by": "test"})  # fmt: skip
        note = await alice.notification()
        assert (note["type"], note["room"], note["controller"], note["action"]) == (
            "document",
            channel,
            "realtime",
            "publish",
        )
        assert (note["event"], note["scope"], note["volatile"]) == ("publish", "in", {"by": "test"})
        assert note["result"]["_source"] == {"name": "pen", "price": 2} and note["timestamp"] > 0
        await call(shop, controller="realtime", action="publish", index="shop", collection="items",
                   body={"name": "car", "price": 20000})  # fmt: skip
        assert await alice.nothing()

        await call(shop, controller="document", action="create", index="shop", collection="items", _id="i1",
                   body={"name": "cup", "price": 5})  # fmt: skip
        note = await alice.notification()
        assert (note["controller"], note["action"], note["event"], note["scope"]) == (
            "document",
            "create",
            "write",
            "in",
        )
        assert note["result"]["_id"] == "i1" and note["result"]["_source"]["price"] == 5
        # The update takes it out of the filter: scope "out".
        await call(shop, controller="document", action="update", index="shop", collection="items", _id="i1",
                   body={"price": 50})  # fmt: skip
        note = await alice.notification()
        assert (note["action"], note["scope"]) == ("update", "out")
        await call(shop, controller="document", action="update", index="shop", collection="items", _id="i1",
                   body={"price": 60})  # fmt: skip
        assert await alice.nothing()
        await call(shop, controller="document", action="update", index="shop", collection="items", _id="i1",
                   body={"price": 1})  # fmt: skip
        assert (await alice.notification())["scope"] == "in"
        await call(shop, controller="document", action="delete", index="shop", collection="items", _id="i1")
        note = await alice.notification()
        assert (note["action"], note["event"], note["scope"]) == ("delete", "delete", "out")

        # Another collection is another story.
        await call(shop, controller="realtime", action="publish", index="shop", collection="other", body={"price": 1})
        assert await alice.nothing()

        left = await alice.query(controller="realtime", action="unsubscribe", body={"roomId": room_id})
        assert left["result"] == {"roomId": room_id}
        await call(shop, controller="realtime", action="publish", index="shop", collection="items", body={"price": 1})
        assert await alice.nothing()
        again = await alice.query(controller="realtime", action="unsubscribe", body={"roomId": room_id})
        assert (again["status"], again["error"]["id"]) == (412, "core.realtime.not_subscribed")


async def test_notifications_name_the_change_made_to_each_document(shop: Application) -> None:
    # Kuzzle's notifier names the change (create, replace, update, delete), not the API action.
    async with Client(shop) as alice:
        subscribed = await alice.query(controller="realtime", action="subscribe", index="shop", collection="items",
                                       body={})  # fmt: skip
        assert subscribed["status"] == 200, subscribed["error"]

        async def changes(action: str, **args: Any) -> list[tuple[str, str, str]]:
            answer = await call(shop, controller="document", action=action, index="shop", collection="items", **args)
            assert answer["status"] in (200, 206), answer["error"]
            seen = []
            while not await alice.nothing():
                note = await alice.notification()
                seen.append((note["action"], note["event"], note["result"]["_id"]))
            return seen

        assert await changes("createOrReplace", _id="a", body={"n": 1}) == [("create", "write", "a")]
        assert await changes("createOrReplace", _id="a", body={"n": 2}) == [("replace", "write", "a")]
        assert await changes("upsert", _id="b", body={"changes": {"n": 1}}) == [("create", "write", "b")]
        assert await changes("upsert", _id="b", body={"changes": {"n": 2}}) == [("update", "write", "b")]
        assert await changes("mReplace", body={"documents": [{"_id": "a", "body": {"n": 3}}]}) == [
            ("replace", "write", "a")
        ]
        assert await changes("mUpdate", body={"documents": [{"_id": "b", "body": {"n": 3}}]}) == [
            ("update", "write", "b")
        ]
        assert sorted(await changes("deleteByQuery", body={"query": {}})) == [
            ("delete", "delete", "a"),
            ("delete", "delete", "b"),
        ]


async def test_scopes_users_and_counts(shop: Application) -> None:
    async with Client(shop) as alice, Client(shop) as bob:
        sub = await alice.query(controller="realtime", action="subscribe", index="shop", collection="items",
                                body=CHEAP, scope="out", users="all")  # fmt: skip
        room_id = sub["result"]["roomId"]
        await call(shop, controller="realtime", action="publish", index="shop", collection="items", body={"price": 1})
        assert await alice.nothing()  # scope "out" only
        joined = await bob.query(controller="realtime", action="subscribe", index="shop", collection="items",
                                 body=CHEAP, volatile={"nick": "bob"})  # fmt: skip
        assert joined["result"]["roomId"] == room_id and joined["result"]["channel"] != sub["result"]["channel"]
        note = await alice.notification()
        assert (note["type"], note["user"], note["result"], note["volatile"]) == (
            "user",
            "in",
            {"count": 2},
            {"nick": "bob"},
        )
        count = await alice.query(controller="realtime", action="count", body={"roomId": room_id})
        assert count["result"] == {"count": 2}
        listed = await alice.query(controller="realtime", action="list")
        assert listed["result"] == {"shop": {"items": {room_id: 2}}}
        await bob.ws.disconnect()  # subscriptions die with their connection
        note = await alice.notification()
        assert (note["type"], note["user"], note["result"]) == ("user", "out", {"count": 1})
        bad = await alice.query(controller="realtime", action="subscribe", index="shop", collection="items",
                                body={"nope": {}})  # fmt: skip
        assert (bad["status"], bad["error"]["id"]) == (400, "api.assert.koncorde_unknown_keyword")
        bad = await alice.query(controller="realtime", action="subscribe", index="shop", collection="items",
                                body={}, scope="sideways")  # fmt: skip
        assert bad["error"]["id"] == "api.assert.invalid_argument"


async def test_subscribing_needs_a_websocket(shop: Application) -> None:
    answer = await call(shop, controller="realtime", action="subscribe", index="shop", collection="items", body={})
    assert (answer["status"], answer["error"]["id"]) == (400, "core.realtime.unsupported_protocol")


def test_rooms_are_shared_by_equal_filters() -> None:
    rooms = Rooms()
    a = rooms.subscribe("c1", "i", "c", {"equals": {"x": 1}})
    b = rooms.subscribe("c2", "i", "c", {"equals": {"x": 1}})
    c = rooms.subscribe("c2", "i", "c", {"equals": {"x": 2}})
    assert a == b and a.room_id != c.room_id
    assert rooms.rooms[a.room_id].count() == 2
    assert rooms.drop_connection("c2") == sorted([a.room_id, c.room_id])
    assert set(rooms.rooms) == {a.room_id} and rooms.rooms[a.room_id].count() == 1


async def test_realtime_hooks(kapp: Application) -> None:
    seen: list[tuple[str, str]] = []

    @kapp.hook.register("core:realtime:user:subscribe:after")
    async def joined(payload: dict[str, Any]) -> None:
        seen.append(("in", payload["roomId"]))

    @kapp.hook.register("core:realtime:user:unsubscribe:after")
    async def left(payload: dict[str, Any]) -> None:
        seen.append(("out", payload["roomId"]))

    await kapp.start()
    async with Client(kapp) as alice:
        sub = await alice.query(controller="realtime", action="subscribe", index="i", collection="c", body={})
        room_id = sub["result"]["roomId"]
        await alice.query(controller="realtime", action="unsubscribe", body={"roomId": room_id})
    await kapp.events.drain_hooks()
    assert seen == [("in", room_id), ("out", room_id)]


async def test_count_of_a_room_nobody_is_in_and_bad_room_ids(shop: Application) -> None:
    # Kuzzle's cluster counts 0 for a room that no node has; body.roomId is checked as getBodyString.
    nobody = await call(shop, controller="realtime", action="count", body={"roomId": "0" * 32})
    assert (nobody["status"], nobody["result"]) == (200, {"count": 0})
    missing = await call(shop, controller="realtime", action="count", body={})
    assert (missing["status"], missing["error"]["id"]) == (400, "api.assert.missing_argument")
    wrong = await call(shop, controller="realtime", action="count", body={"roomId": 3})
    assert (wrong["status"], wrong["error"]["id"]) == (400, "api.assert.invalid_type")
    assert (await call(shop, controller="realtime", action="count"))["error"]["id"] == "api.assert.body_required"
