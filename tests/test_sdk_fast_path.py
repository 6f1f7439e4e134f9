"""``app.sdk.query`` takes a shorter road than ``app.sdk.execute`` (no coroutine of its own, the
response checked rather than sealed as JSON): these tests hold it to the full path's outcome."""

from __future__ import annotations

import math
import uuid
from typing import Any

import pytest

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.request import NOBODY, Connection, User
from kuzzle_events.errors import KuzzleError


async def _full_path(
    app: Application,
    data: dict[str, Any],
    user: User | None = None,
    trigger_events: bool = True,
    check_rights: bool = False,
) -> dict[str, Any]:
    """What ``app.sdk.query`` did before its shortcuts: execute(), a sealed response, its dict."""
    request = KuzzleRequest(dict(data), connection=Connection(protocol="internal"), user=user or NOBODY)
    request.context.check_rights = check_rights
    response = await app.sdk.execute(request, trigger_events=trigger_events)
    if request.error is not None:
        raise request.error
    return response.to_dict()


async def _outcome(call: Any) -> tuple[Any, ...]:
    try:
        return ("answered", await call)
    except KuzzleError as error:
        return ("raised", type(error), error.id, error.status, str(error), error.to_dict())


_RESULTS: dict[str, Any] = {
    "plain": {"now": 1, "name": "ada", "ok": True, "none": None},
    "nothing": None,
    "nested": {"a": {"b": [1, 2.5, "c"]}},
    "float": {"pi": 3.14},
    "int_keys": {1: "one"},
    "non_ascii": {"name": "Zoë"},
    "nine_keys": {f"k{n}": n for n in range(9)},
    "big_int": {"n": 1 << 64},
    "huge_int": {"n": 10**5000},  # more digits than int-to-text conversion allows
    "surrogate": {"s": "\ud800"},
    "nan": {"x": math.nan},
    "a_set": {"s": {1}},
    "bool_key": {True: 1},
    "a_list": [1, 2],
}


def _probe(app: Application) -> None:
    async def echo(request: KuzzleRequest) -> Any:
        return _RESULTS[request.get_string("case")]

    async def fail(request: KuzzleRequest) -> Any:
        raise ValueError("the handler failed")

    async def created(request: KuzzleRequest) -> Any:
        request.response.status = 201
        request.response.set_header("X-Probe", "yes")
        return {"made": True}

    async def silent(request: KuzzleRequest) -> Any:
        request.response.no_result = True
        return None

    actions = {"echo": echo, "fail": fail, "created": created, "silent": silent}
    app.controller.register("probe", {"actions": {name: {"handler": fn} for name, fn in actions.items()}})


CASES: list[tuple[dict[str, Any], dict[str, Any]]] = [
    *(
        ({"controller": "probe", "action": "echo", "case": case, "index": "i", "collection": "c"}, {})
        for case in _RESULTS
    ),
    ({"controller": "probe", "action": "fail"}, {}),
    ({"controller": "probe", "action": "created", "volatile": {"v": 1}}, {}),
    ({"controller": "probe", "action": "silent"}, {}),
    ({"controller": "probe", "action": "nope"}, {}),
    ({"controller": "nope", "action": "now"}, {}),
    ({"controller": "probe"}, {}),
    ({"controller": "probe", "action": "echo", "case": "plain"}, {"trigger_events": False}),
    ({"controller": "probe", "action": "fail"}, {"trigger_events": False}),
    ({"controller": "probe", "action": "echo", "case": "plain"}, {"check_rights": True}),
    (
        {"controller": "probe", "action": "echo", "case": "plain"},
        {"check_rights": True, "user": User("u1", ["default"])},
    ),
    ({"controller": "probe", "action": "echo", "case": "plain"}, {"user": User("u1", ["default"])}),
    ({"controller": "probe", "action": "echo", "case": "plain", "jwt": "not-a-token"}, {}),
    ({"controller": "server", "action": "getConfig"}, {}),
    ({"controller": "server", "action": "now", "trace": True}, {}),
]


@pytest.mark.parametrize(("data", "options"), CASES)
async def test_query_answers_as_the_full_path(kapp: Application, data: dict[str, Any], options: dict[str, Any]) -> None:
    _probe(kapp)
    await kapp.start()
    data = {**data, "requestId": "same-id"}
    fast = await _outcome(kapp.sdk.query(data, **options))
    full = await _outcome(_full_path(kapp, data, **options))
    if data.get("trace"):  # a trace's timings differ from run to run; its presence must not
        assert fast[1].pop("trace").keys() == full[1].pop("trace").keys()
    if data.get("controller") == "server" and data.get("action") == "now" and fast[0] == "answered":
        # A clock reading: the two runs may fall in different milliseconds.
        assert isinstance(fast[1]["result"].pop("now"), int) and isinstance(full[1]["result"].pop("now"), int)
    assert fast == full
    await kapp.events.drain_hooks()


async def test_a_listener_brings_the_full_life_cycle_back(kapp: Application) -> None:
    _probe(kapp)
    await kapp.start()
    seen: list[str] = []

    async def before(request: KuzzleRequest) -> KuzzleRequest:
        seen.append(request.input.action)
        request.input.args["case"] = "float"
        return request

    data = {"controller": "probe", "action": "echo", "case": "plain", "requestId": "r"}
    assert (await kapp.sdk.query(data))["result"] == _RESULTS["plain"]
    kapp.pipe.register("probe:beforeEcho", before)
    fast = await kapp.sdk.query(data)
    assert fast == await _full_path(kapp, data)
    assert fast["result"] == _RESULTS["float"] and seen == ["echo", "echo"]


async def test_query_ids_are_unique_uuids_and_the_caller_dict_is_left_alone(started: Application) -> None:
    data = {"controller": "server", "action": "now"}
    ids = [(await started.sdk.query(data))["requestId"] for _ in range(200)]
    assert len(set(ids)) == 200
    assert all(uuid.UUID(text).version == 4 for text in ids)
    assert data == {"controller": "server", "action": "now"}


async def test_nested_queries_still_stop_at_the_limit(make_app: Any) -> None:
    app = make_app(MAX_TRIGGER_DEPTH=3)
    depths: list[int] = []

    async def deeper(request: KuzzleRequest) -> Any:
        depths.append(len(app.nesting.chain()))
        return await app.sdk.query({"controller": "probe", "action": "deeper"})

    app.controller.register("probe", {"actions": {"deeper": {"handler": deeper}}})
    await app.start()
    with pytest.raises(KuzzleError) as failure:
        await app.sdk.query({"controller": "probe", "action": "deeper"})
    assert failure.value.id == "plugin.runtime.unexpected_error"
    assert "MAX_TRIGGER_DEPTH" in str(failure.value)
    assert depths == [1, 2, 3]
    assert app.nesting.chain() == ()
