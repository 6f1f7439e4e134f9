"""Request traces: every event of a request's life cycle, each pipe and hook run, in the envelope."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import sync_to_async

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import Connection
from kuzzle_events.core.response import KuzzleResponse, dumps
from kuzzle_events.core.traces import asks_trace
from kuzzle_events.errors import ForbiddenError
from tests.accounts import issue_token, make_user

LIFE_CYCLE = [
    "request:beforeExecution",
    "request:onAuthorized",
    "request:onExecution",
    "shop:beforeBuy",
    "shop:afterBuy",
    "request:onSuccess",
    "request:afterExecution",
]


async def checked_out(request: KuzzleRequest) -> KuzzleRequest:
    return request


async def priced(request: KuzzleRequest) -> KuzzleRequest:
    request.result["price"] = 3
    return request


async def refuse(request: KuzzleRequest) -> KuzzleRequest:
    raise ForbiddenError("not today", "shop.refused")


def audited(request: KuzzleRequest) -> None:
    request.context.connection.misc["audited"] = True


async def slow_hook(request: KuzzleRequest) -> None:
    await asyncio.sleep(5)


def install(app: Application) -> None:
    async def buy(request: KuzzleRequest) -> dict[str, Any]:
        return {"bought": request.input.args.get("item")}

    app.controller.register("shop", {"actions": {"buy": {"handler": buy}, "sell": {"handler": buy}}})
    app.pipe.register("request:beforeExecution", checked_out, owner="audit-plugin")
    app.pipe.register("shop:after*", priced)
    app.hook.register("shop:afterBuy", audited)


async def execute(app: Application, data: dict[str, Any], **context: Any) -> KuzzleResponse:
    request = KuzzleRequest(data, connection=Connection(protocol="websocket"), **context)
    return await app.funnel.execute(request)


def test_what_asks_for_a_trace() -> None:
    assert all(asks_trace(value) for value in (True, 1, "1", "true", "TRUE", " 1 "))
    assert not any(asks_trace(value) for value in (False, 0, 2, "0", "", "yes", None, 1.0, [1], {"a": 1}))


async def test_a_traced_request_lists_every_event_and_each_run_in_order(kapp: Application) -> None:
    install(kapp)
    await kapp.start()
    response = await execute(kapp, {"controller": "shop", "action": "buy", "item": "pear", "trace": True})
    envelope = response.to_dict()
    assert envelope["status"] == 200 and envelope["result"] == {"bought": "pear", "price": 3}
    events = envelope["trace"]["events"]
    # Every event of the life cycle, listened to or not, in the order they fired.
    assert [e["event"] for e in events] == LIFE_CYCLE
    [before] = events[0]["pipes"]
    assert before["name"] == f"{__name__}.checked_out" and before["owner"] == "audit-plugin"
    assert before["registeredOn"] == "request:beforeExecution" and before["outcome"] == "ok"
    assert isinstance(before["duration"], float) and before["duration"] >= 0
    after = events[4]
    assert [(p["name"], p["registeredOn"]) for p in after["pipes"]] == [(f"{__name__}.priced", "shop:after*")]
    # The hook ran in its task; the traced request waited for it, so its outcome is known.
    [hook] = after["hooks"]
    assert (hook["name"], hook["outcome"]) == (f"{__name__}.audited", "ok") and hook["duration"] is not None
    assert all(
        not e["pipes"] and not e["hooks"]
        for e in events
        if e["event"] not in ("request:beforeExecution", "shop:afterBuy")
    )
    # The JSON envelope carries the same, as every protocol sends it.
    assert json.loads(response.to_json()) == json.loads(dumps(envelope))
    assert json.loads(response.to_json(room=True))["trace"] == envelope["trace"]


async def test_a_request_that_asks_nothing_has_no_trace_and_leaves_the_engine_as_it_is(kapp: Application) -> None:
    install(kapp)
    await kapp.start()
    chain = kapp.events.listeners("shop:afterBuy")
    plain = await execute(kapp, {"controller": "shop", "action": "buy", "item": "pear"})
    assert "trace" not in plain.to_dict() and '"trace"' not in plain.to_json()
    await execute(kapp, {"controller": "shop", "action": "buy", "trace": True})
    assert kapp.events.listeners("shop:afterBuy") is chain  # a traced run builds a chain of its own
    await kapp.events.drain_hooks()
    calls = kapp.stats()["events"]["shop:after*"]["pipes"][0]["calls"]
    assert calls == 2  # the traced run counts as a run


async def test_a_failing_pipe_is_traced_with_its_error_and_the_error_events_follow(kapp: Application) -> None:
    install(kapp)
    kapp.pipe.register("shop:beforeSell", refuse)
    await kapp.start()
    envelope = (await execute(kapp, {"controller": "shop", "action": "sell", "trace": "1"})).to_dict()
    assert envelope["status"] == 403
    events = envelope["trace"]["events"]
    assert [e["event"] for e in events] == [
        "request:beforeExecution",
        "request:onAuthorized",
        "request:onExecution",
        "shop:beforeSell",
        "shop:errorSell",
        "request:onError",
        "request:afterExecution",
    ]
    [failed] = events[3]["pipes"]
    assert failed["outcome"] == "error" and failed["error"] == {"id": "shop.refused", "message": "not today"}


async def test_a_hook_still_running_is_shown_running(kapp: Application) -> None:
    install(kapp)
    kapp.hook.register("shop:afterBuy", slow_hook)
    await kapp.start()
    kapp.funnel.trace_patience = 0.05
    envelope = (await execute(kapp, {"controller": "shop", "action": "buy", "trace": True})).to_dict()
    hooks = envelope["trace"]["events"][4]["hooks"]
    assert [(h["name"].rsplit(".", 1)[1], h["outcome"]) for h in hooks] == [("audited", "ok"), ("slow_hook", "running")]
    assert hooks[1]["duration"] is None
    for task in list(kapp.events.hook_tasks):
        task.cancel()
    await kapp.events.drain_hooks()


async def test_a_switched_off_pipe_is_not_in_the_trace(kapp: Application) -> None:
    install(kapp)
    await kapp.start()
    kapp.events.switch_off({("pipe", "shop:after*", f"{__name__}.priced")})
    envelope = (await execute(kapp, {"controller": "shop", "action": "buy", "trace": True})).to_dict()
    assert envelope["result"] == {"bought": None}
    assert envelope["trace"]["events"][4] == {
        "event": "shop:afterBuy",
        "pipes": [],
        "hooks": envelope["trace"]["events"][4]["hooks"],
    }
    assert all(p["name"] != f"{__name__}.priced" for e in envelope["trace"]["events"] for p in e["pipes"])


async def test_only_a_caller_allowed_server_trace_gets_the_trace(kapp: Application) -> None:
    install(kapp)
    await sync_to_async(make_user)("root", superuser=True)  # an administrator exists: rights apply
    await sync_to_async(make_user)("ada")
    await kapp.start()
    buy = {"controller": "server", "action": "now", "trace": True}
    anonymous = (await execute(kapp, buy)).to_dict()
    assert anonymous["status"] == 200 and "trace" not in anonymous
    ada = await sync_to_async(issue_token)("ada")
    user = (await execute(kapp, {**buy, "jwt": ada.jwt})).to_dict()
    assert user["status"] == 200 and "trace" not in user
    root = await sync_to_async(issue_token)("root")
    admin = (await execute(kapp, {**buy, "jwt": root.jwt})).to_dict()
    assert [e["event"] for e in admin["trace"]["events"]][:2] == ["request:beforeExecution", "request:onAuthorized"]

    # server:trace is a right like any other: a role may grant it (the role check knows it).
    answer = await kapp.sdk.query(
        {
            "controller": "security",
            "action": "createRole",
            "_id": "tracer",
            "body": {"controllers": {"server": {"actions": {"now": True, "trace": True}}}},
        }
    )
    assert answer["status"] == 200, answer["error"]
    await kapp.sdk.query(
        {
            "controller": "security",
            "action": "createProfile",
            "_id": "tracer",
            "body": {"policies": [{"roleId": "tracer"}]},
        }
    )
    await sync_to_async(make_user)("tracy", profiles=["tracer"])
    tracy = await sync_to_async(issue_token)("tracy")
    traced = (await execute(kapp, {**buy, "jwt": tracy.jwt})).to_dict()
    assert traced["status"] == 200 and "trace" in traced


async def test_events_the_request_s_own_code_fires_are_in_its_trace(kapp: Application) -> None:
    async def sell(request: KuzzleRequest) -> dict[str, Any]:
        await kapp.trigger("shop/sold", {"item": "pear"})
        return {"sold": True}

    async def counted(payload: dict[str, Any]) -> dict[str, Any]:
        return payload

    kapp.controller.register("market", {"actions": {"sell": {"handler": sell}}})
    kapp.pipe.register("shop/sold", counted)
    await kapp.start()
    envelope = (await execute(kapp, {"controller": "market", "action": "sell", "trace": True})).to_dict()
    fired = [e["event"] for e in envelope["trace"]["events"]]
    assert fired.index("market:beforeSell") < fired.index("shop/sold") < fired.index("market:afterSell")
    [sold] = [e for e in envelope["trace"]["events"] if e["event"] == "shop/sold"]
    assert [(p["name"].rsplit(".", 1)[1], p["outcome"]) for p in sold["pipes"]] == [("counted", "ok")]
    # Outside a traced request, the same trigger records nothing anywhere.
    plain = (await execute(kapp, {"controller": "market", "action": "sell"})).to_dict()
    assert "trace" not in plain and plain["result"] == {"sold": True}
