"""The funnel: life-cycle order, recovery, what the client gets, 404s, envelope shape."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import Connection
from kuzzle_events.errors import BadRequestError, ForbiddenError

LIFE_CYCLE = [
    "request:beforeExecution",
    "request:onAuthorized",
    "request:onExecution",
    "shop:beforeBuy",
    "handler",
    "shop:afterBuy",
    "request:onSuccess",
    "request:afterExecution",
]
EVENTS = [e for e in LIFE_CYCLE if e != "handler"] + [
    "shop:errorBuy",
    "request:onError",
    "request:onUnauthorized",
]


def install(app: Application, calls: list[str], handler: Any = None) -> None:
    async def buy(request: KuzzleRequest) -> dict[str, Any]:
        calls.append("handler")
        return {"bought": request.input.args.get("item")}

    app.controller.register("shop", {"actions": {"buy": {"handler": handler or buy}}})
    for event in EVENTS:

        async def pipe(payload: Any, _event: str = event) -> Any:
            calls.append(_event)
            return payload

        app.pipe.register(event, pipe)


async def execute(app: Application, data: dict[str, Any]) -> KuzzleRequest:
    request = KuzzleRequest(data, connection=Connection(protocol="internal"))
    response = await app.funnel.execute(request)
    return response.request


async def test_life_cycle_order(kapp: Application) -> None:
    calls: list[str] = []
    install(kapp, calls)
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy", "item": "apple"})
    assert calls == LIFE_CYCLE
    assert request.result == {"bought": "apple"}
    assert request.status == 200


async def test_failure_fires_error_action_then_on_error(kapp: Application) -> None:
    calls: list[str] = []

    async def fail(request: KuzzleRequest) -> None:
        calls.append("handler")
        raise BadRequestError("out of stock", "shop.buy.out_of_stock")

    install(kapp, calls, fail)
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy"})
    assert calls == [
        "request:beforeExecution",
        "request:onAuthorized",
        "request:onExecution",
        "shop:beforeBuy",
        "handler",
        "shop:errorBuy",
        "request:onError",
        "request:afterExecution",
    ]
    assert request.error is not None and request.error.id == "shop.buy.out_of_stock"
    assert request.status == 400


async def test_error_pipe_recovers_and_on_error_is_skipped(kapp: Application) -> None:
    calls: list[str] = []

    async def fail(request: KuzzleRequest) -> None:
        raise ValueError("boom")

    async def recover(request: KuzzleRequest) -> KuzzleRequest:
        request.clear_error()
        request.result = {"recovered": True}
        return request

    kapp.controller.register("shop", {"actions": {"buy": {"handler": fail}}})
    kapp.pipe.register("shop:errorBuy", recover)
    kapp.pipe.register("request:onError", lambda r: calls.append("onError") or r)
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy"})
    assert request.error is None
    assert request.result == {"recovered": True}
    assert calls == []


async def test_on_error_pipe_can_recover(kapp: Application) -> None:
    async def fail(request: KuzzleRequest) -> None:
        raise ValueError("boom")

    async def recover(request: KuzzleRequest) -> KuzzleRequest:
        assert request.error.id == "plugin.runtime.unexpected_error"
        request.clear_error()
        request.result = "fallback"
        return request

    kapp.controller.register("shop", {"actions": {"buy": {"handler": fail}}})
    kapp.pipe.register("request:onError", recover)
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy"})
    assert (request.error, request.result, request.status) == (None, "fallback", 200)


async def test_error_pipe_raising_replaces_the_error(kapp: Application) -> None:
    async def fail(request: KuzzleRequest) -> None:
        raise ValueError("boom")

    async def translate(request: KuzzleRequest) -> KuzzleRequest:
        raise ForbiddenError("translated", "shop.buy.translated")

    kapp.controller.register("shop", {"actions": {"buy": {"handler": fail}}})
    kapp.pipe.register("shop:errorBuy", translate)
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy"})
    assert request.error.id == "shop.buy.translated" and request.status == 403


async def test_after_execution_decides_what_the_client_gets(kapp: Application) -> None:
    async def buy(request: KuzzleRequest) -> str:
        return "original"

    async def rewrite(outcome: dict[str, Any]) -> dict[str, Any]:
        assert outcome["success"] is True and outcome["result"] == "original"
        return {**outcome, "result": "rewritten"}

    kapp.controller.register("shop", {"actions": {"buy": {"handler": buy}}})
    kapp.pipe.register("request:afterExecution", rewrite)
    await kapp.start()
    response = await kapp.sdk.query({"controller": "shop", "action": "buy"})
    assert response["result"] == "rewritten"


async def test_after_execution_can_turn_a_success_into_an_error(kapp: Application) -> None:
    async def buy(request: KuzzleRequest) -> str:
        return "original"

    async def deny(outcome: dict[str, Any]) -> dict[str, Any]:
        return {"request": outcome["request"], "error": ForbiddenError("late"), "success": False}

    kapp.controller.register("shop", {"actions": {"buy": {"handler": buy}}})
    kapp.pipe.register("request:afterExecution", deny)
    await kapp.start()
    request = KuzzleRequest({"controller": "shop", "action": "buy"})
    envelope = (await kapp.funnel.execute(request)).to_dict()
    assert envelope["status"] == 403
    assert envelope["error"]["message"] == "late"
    assert envelope["result"] is None


async def test_before_execution_failure_skips_action_events(kapp: Application) -> None:
    calls: list[str] = []
    install(kapp, calls)

    async def refuse(request: KuzzleRequest) -> KuzzleRequest:
        raise ForbiddenError("closed")

    kapp.pipe.register("request:beforeExecution", refuse)
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy"})
    assert calls == ["request:beforeExecution", "request:afterExecution"]
    assert request.status == 403


async def test_unknown_controller_and_action_are_404(started: Application) -> None:
    request = await execute(started, {"controller": "nope", "action": "now"})
    assert (request.status, request.error.id) == (404, "api.process.controller_not_found")
    assert request.error.message == 'API controller "nope" not found.'
    request = await execute(started, {"controller": "server", "action": "nope"})
    assert (request.status, request.error.id) == (404, "api.process.action_not_found")


async def test_unauthorized_fires_on_unauthorized(kapp: Application) -> None:
    calls: list[str] = []
    install(kapp, calls)

    async def deny(request: KuzzleRequest, action: Any) -> None:
        raise ForbiddenError("denied", "security.rights.forbidden")

    kapp.funnel.authorize = deny
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy"})
    assert calls == ["request:beforeExecution", "request:onUnauthorized", "request:afterExecution"]
    assert request.status == 403


async def test_trigger_events_false_fires_nothing(kapp: Application) -> None:
    calls: list[str] = []
    install(kapp, calls)
    await kapp.start()
    response = await kapp.sdk.query({"controller": "shop", "action": "buy", "item": "x"}, trigger_events=False)
    assert calls == ["handler"]
    assert response["result"] == {"bought": "x"}
    await kapp.sdk.query({"controller": "shop", "action": "buy"})
    assert "shop:beforeBuy" in calls


async def test_unserializable_result_is_a_plugin_error(kapp: Application) -> None:
    async def buy(request: KuzzleRequest) -> Any:
        return {"when": object()}

    kapp.controller.register("shop", {"actions": {"buy": {"handler": buy}}})
    await kapp.start()
    request = KuzzleRequest({"controller": "shop", "action": "buy"})
    response = await kapp.funnel.execute(request)
    assert response.status == 500
    assert request.error.id == "plugin.controller.unserializable_response"
    assert '"status":500' in response.to_json()


@pytest.mark.django_db(transaction=True)
async def test_sync_handler_runs(kapp: Application) -> None:
    def buy(request: KuzzleRequest) -> dict[str, int]:
        return {"n": request.get_integer("n")}

    kapp.controller.register("shop", {"actions": {"buy": {"handler": buy}}})
    await kapp.start()
    assert (await kapp.sdk.query({"controller": "shop", "action": "buy", "n": 3}))["result"] == {"n": 3}


async def test_handler_status_is_kept(kapp: Application) -> None:
    async def create(request: KuzzleRequest) -> dict[str, bool]:
        request.response.status = 201
        return {"created": True}

    kapp.controller.register("shop", {"actions": {"create": {"handler": create}}})
    await kapp.start()
    assert (await kapp.sdk.query({"controller": "shop", "action": "create"}))["status"] == 201


async def test_sdk_query_raises_the_error(started: Application) -> None:
    with pytest.raises(Exception) as caught:
        await started.sdk.query({"controller": "server", "action": "nope"})
    assert caught.value.id == "api.process.action_not_found"


async def test_listeners_changed_between_requests_apply_to_the_next(kapp: Application) -> None:
    # A request nobody listens to skips its events; adding or removing a listener must end that.
    calls: list[str] = []

    async def buy(request: KuzzleRequest) -> dict[str, Any]:
        return {"item": request.input.args.get("item")}

    kapp.controller.register("shop", {"actions": {"buy": {"handler": buy}}})
    await kapp.start()
    assert (await execute(kapp, {"controller": "shop", "action": "buy", "item": "a"})).result == {"item": "a"}

    async def rename(request: KuzzleRequest) -> KuzzleRequest:
        request.input.args["item"] = "renamed"
        return request

    pipe_id = kapp.pipe.register("shop:beforeBuy", rename)
    assert (await execute(kapp, {"controller": "shop", "action": "buy", "item": "a"})).result == {"item": "renamed"}
    kapp.pipe.unregister(pipe_id)
    assert (await execute(kapp, {"controller": "shop", "action": "buy", "item": "a"})).result == {"item": "a"}

    async def seen(request: KuzzleRequest) -> KuzzleRequest:
        calls.append(request.id)
        return request

    kapp.pipe.register("request:onSuccess", seen)
    request = await execute(kapp, {"controller": "shop", "action": "buy", "requestId": "seen"})
    assert calls == ["seen"] and request.result == {"item": None}


@pytest.mark.parametrize("field", ["controller", "action"])
async def test_a_name_that_is_not_a_string_is_a_400(started: Application, field: str) -> None:
    data: dict[str, Any] = {"controller": "server", "action": "now", field: ["now"]}
    request = await execute(started, data)
    assert (request.status, request.error.id) == (400, "api.assert.invalid_type")
    assert request.error.message == f'Wrong type for argument "{field}" (expected: string)'


@pytest.mark.parametrize("listened", EVENTS)
async def test_an_event_listened_to_alone_runs_and_the_others_are_not_fired(kapp: Application, listened: str) -> None:
    # The life cycle fires only the events with listeners (decided with the action's plan); the
    # answer and the events seen are those of firing them all.
    seen: list[str] = []

    async def buy(request: KuzzleRequest) -> dict[str, Any]:
        if request.input.args.get("fail"):
            raise BadRequestError("out of stock", "shop.buy.out_of_stock")
        return {"bought": True}

    kapp.controller.register("shop", {"actions": {"buy": {"handler": buy}}})
    stop = None
    await kapp.start()
    fired: list[str] = []
    stop = kapp.events.observe(lambda event, payload: fired.append(event))
    everything = [await execute(kapp, {"controller": "shop", "action": "buy", "fail": f}) for f in (False, True)]
    stop()
    kapp.pipe.register(listened, lambda payload: seen.append(listened) or payload)
    kapp.funnel.authorize = None
    alone = [await execute(kapp, {"controller": "shop", "action": "buy", "fail": f}) for f in (False, True)]
    assert [(r.status, r.result, r.error and r.error.id) for r in alone] == [
        (r.status, r.result, r.error and r.error.id) for r in everything
    ]
    assert seen == [listened] * sum(listened in run for run in _runs(fired))


def _runs(fired: list[str]) -> list[list[str]]:
    """The events of each request, split at each request:beforeExecution."""
    runs: list[list[str]] = []
    for event in fired:
        if event == "request:beforeExecution":
            runs.append([])
        if runs:
            runs[-1].append(event)
    return runs


async def test_a_listener_added_after_an_action_ran_is_fired_at_its_next_request(kapp: Application) -> None:
    calls: list[str] = []
    kapp.controller.register("shop", {"actions": {"buy": {"handler": lambda r: "bought"}}})
    kapp.pipe.register("request:onSuccess", lambda request: calls.append("request:onSuccess") or request)
    await kapp.start()
    await execute(kapp, {"controller": "shop", "action": "buy"})
    kapp.pipe.register("shop:afterBuy", lambda request: calls.append("shop:afterBuy") or request)
    await execute(kapp, {"controller": "shop", "action": "buy"})
    assert calls == ["request:onSuccess", "shop:afterBuy", "request:onSuccess"]


async def test_a_pipe_answering_another_actions_request_gets_that_actions_events(kapp: Application) -> None:
    calls: list[str] = []

    async def sell(request: KuzzleRequest) -> str:
        return "sold"

    kapp.controller.register("shop", {"actions": {"buy": {"handler": lambda r: "bought"}, "sell": {"handler": sell}}})
    kapp.pipe.register(
        "request:beforeExecution",
        lambda request: KuzzleRequest({"controller": "shop", "action": "sell"}, connection=request.context.connection),
    )
    kapp.pipe.register("shop:afterSell", lambda request: calls.append("shop:afterSell") or request)
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy"})
    assert request.result == "sold" and calls == ["shop:afterSell"]


async def test_listeners_changed_during_a_request_apply_to_its_later_events(kapp: Application) -> None:
    # The plan of an action holds the chain of each event; once listeners change, a chain of that
    # plan is stale and the event is fired by its name, so the request sees the listeners as they are.
    calls: list[str] = []
    kapp.controller.register("shop", {"actions": {"buy": {"handler": lambda r: "bought"}}})
    added: list[str] = []

    def add_and_remove(request: KuzzleRequest) -> KuzzleRequest:
        if not added:
            added.append(kapp.pipe.register("request:onSuccess", lambda r: calls.append("added") or r))
            kapp.pipe.unregister(removed)
        return request

    kapp.pipe.register("request:onAuthorized", add_and_remove)
    kapp.pipe.register("request:onSuccess", lambda r: calls.append("first") or r)
    removed = kapp.pipe.register("shop:afterBuy", lambda r: calls.append("removed") or r)
    await kapp.start()
    request = await execute(kapp, {"controller": "shop", "action": "buy"})
    assert request.result == "bought" and calls == ["first", "added"]
    kapp.events.fold_counts()  # each run counted once, whichever chain ran it
    assert [pipe.stats.calls for pipe in kapp.events.listeners("request:onSuccess").pipes] == [1, 1]

