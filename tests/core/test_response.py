"""The envelope's JSON text: the same as encoding the envelope dict, field by field."""

from __future__ import annotations

import json
from typing import Any

import pytest

from kuzzle_events import KuzzleRequest
from kuzzle_events.core.request import Connection
from kuzzle_events.core.response import KuzzleResponse, dumps
from kuzzle_events.errors import BadRequestError


def finished(data: dict[str, Any], result: Any = None, error: Exception | None = None) -> KuzzleResponse:
    request = KuzzleRequest(data, connection=Connection(protocol="websocket"))
    if error is not None:
        request.set_error(error)
    else:
        request.set_result(result)
    response = KuzzleResponse(request, node="knode-é")
    response.seal()
    return response


CASES = [
    ({"controller": "server", "action": "now", "requestId": "r1"}, {"now": 1}, None),
    ({"controller": "c", "action": "a", "index": "i", "collection": 'c\u00e9"', "volatile": {"v": [1]}}, "ok", None),
    ({"controller": "c", "action": "a", "requestId": "id\n\u2028"}, [1.5, None, True, {"k": "\u00fc"}], None),
    ({"controller": "c", "action": "a", "index": 3}, None, BadRequestError("bad \u00e9", "api.assert.invalid_type")),
    ({}, None, None),
]


@pytest.mark.parametrize(("data", "result", "error"), CASES)
@pytest.mark.parametrize("room", [False, True])
def test_text_is_the_encoded_dict(data: dict[str, Any], result: Any, error: Exception | None, room: bool) -> None:
    response = finished(data, result, error)
    response.request.response.headers["X-Test"] = (
        "yes" if result == "ok" else response.request.response.headers.get("X-Test", "no")
    )
    expected = response.to_dict()
    if room:
        expected = {k: v for k, v in expected.items() if k != "result"} | {"room": response.request.id}
        expected["result"] = response.to_dict()["result"]
    text = response.to_json(room=room)
    assert text == json.dumps(expected, ensure_ascii=False, separators=(",", ":"))
    assert list(json.loads(text)) == list(expected)


def test_status_set_by_a_handler_is_kept() -> None:
    response = finished({"controller": "c", "action": "a"}, {"created": True})
    response.request.status = 201
    assert json.loads(response.to_json())["status"] == 201


def test_dumps_refuses_what_json_cannot_say() -> None:
    assert dumps({"a": [1, "\u00e9"], 2: None}) == '{"a":[1,"é"],"2":null}'
    with pytest.raises(ValueError):
        dumps(float("nan"))
    with pytest.raises(TypeError):
        dumps({"when": object()})
    loop: list[Any] = []
    loop.append(loop)
    with pytest.raises(RecursionError):
        dumps(loop)


@pytest.mark.parametrize("room", [False, True])
def test_no_result_leaves_a_null_result_out_as_kuzzle_leaves_out_undefined(room: bool) -> None:
    for result, error in ((None, None), ({"a": 1}, None), (None, BadRequestError("no"))):
        response = finished({"controller": "index", "action": "create", "requestId": "r"}, result, error)
        response.request.response.no_result = True
        text, data = json.loads(response.to_json(room=room)), response.to_dict()
        assert text == ({**data, "room": "r"} if room else data)
        assert ("result" in data) is (result is not None or error is not None)


@pytest.mark.parametrize("room", [False, True])
def test_no_deprecations_key_as_kuzzle_sends_none_without_deprecations(room: bool) -> None:
    # Kuzzle's envelope lists deprecations only when an action used something deprecated (and
    # only with NODE_ENV=development); without any, the key is left out, never an empty list.
    response = finished({"controller": "server", "action": "now"}, {"now": 1})
    assert "deprecations" not in response.to_dict()
    assert "deprecations" not in json.loads(response.to_json(room=room))
