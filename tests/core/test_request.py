"""KuzzleRequest: normalisation, resource view, getters and their Kuzzle errors."""

from __future__ import annotations

import pytest

from kuzzle_events import KuzzleRequest
from kuzzle_events.core.request import ANONYMOUS, Connection, RequestContext, RequestInput, RequestResponse, User
from kuzzle_events.errors import BadRequestError, KuzzleError


def test_normalisation_of_a_non_http_request() -> None:
    request = KuzzleRequest(
        {
            "controller": "document",
            "action": "get",
            "index": "i",
            "collection": "c",
            "_id": "x",
            "body": {"a": 1},
            "jwt": "token",
            "volatile": {"v": 1},
            "requestId": "r1",
            "refresh": "wait_for",
        }
    )
    assert (request.input.controller, request.input.action) == ("document", "get")
    assert request.input.args == {"index": "i", "collection": "c", "_id": "x", "refresh": "wait_for"}
    assert (request.input.resource.index, request.input.resource.collection, request.input.resource._id) == (
        "i",
        "c",
        "x",
    )
    request.input.resource.index = "j"
    assert request.input.args["index"] == "j"
    assert (request.input.body, request.input.jwt, request.input.volatile, request.id) == (
        {"a": 1},
        "token",
        {"v": 1},
        "r1",
    )
    assert request.status == 102
    assert request.context.user._id == "-1"
    assert request.context.connection.protocol == "internal"


def test_generated_id_and_controller_set_once() -> None:
    request = KuzzleRequest({"controller": "server", "action": "now"})
    assert len(request.id) == 36
    with pytest.raises(KuzzleError):
        request.input.controller = "other"
    request.input.controller = "server"  # same value is fine


def test_getters() -> None:
    request = KuzzleRequest(
        {"s": "text", "i": "12", "n": 1.5, "b": True, "a": [1], "o": {"k": 1}, "bad": 3, "body": {"x": 1}}
    )
    assert request.get_string("s") == "text"
    assert request.get_integer("i") == 12
    assert request.get_number("n") == 1.5
    assert request.get_boolean("b") is True
    assert request.get_boolean("absent") is False
    assert request.get_array("a") == [1]
    assert request.get_object("o") == {"k": 1}
    assert request.get_body() == {"x": 1}
    assert request.get_string("absent", "default") == "default"


@pytest.mark.parametrize(
    ("call", "error_id", "message"),
    [
        (lambda r: r.get_string("missing"), "api.assert.missing_argument", 'Missing argument "missing".'),
        (lambda r: r.get_string("num"), "api.assert.invalid_type", 'Wrong type for argument "num" (expected: string)'),
        (lambda r: r.get_integer("text"), "api.assert.invalid_type", 'Wrong type for argument "text" (expected: integer)'),
        (lambda r: r.get_integer("flag"), "api.assert.invalid_type", 'Wrong type for argument "flag" (expected: integer)'),
        (lambda r: r.get_number("text"), "api.assert.invalid_type", 'Wrong type for argument "text" (expected: number)'),
        (lambda r: r.get_boolean("text"), "api.assert.invalid_type", 'Wrong type for argument "text" (expected: boolean)'),
        (lambda r: r.get_array("text"), "api.assert.invalid_type", 'Wrong type for argument "text" (expected: array)'),
        (lambda r: r.get_object("text"), "api.assert.invalid_type", 'Wrong type for argument "text" (expected: object)'),
        (lambda r: r.get_body(), "api.assert.body_required", "The request must specify a body."),
        (lambda r: r.get_index(), "api.assert.missing_argument", 'Missing argument "index".'),
        (lambda r: r.get_collection(), "api.assert.missing_argument", 'Missing argument "collection".'),
        (lambda r: r.get_id(), "api.assert.missing_argument", 'Missing argument "_id".'),
    ],
)
def test_getter_errors(call, error_id, message) -> None:
    request = KuzzleRequest({"num": 1, "text": "abc", "flag": True})
    with pytest.raises(BadRequestError) as caught:
        call(request)
    assert (caught.value.id, caught.value.status, caught.value.message) == (error_id, 400, message)
    assert caught.value.code > 0


def test_http_getters() -> None:
    request = KuzzleRequest(
        {"flag": "", "off": "false", "list": "a,b", "json": "[1,2]", "obj": '{"k":1}'},
        connection=Connection(protocol="http"),
    )
    assert request.get_boolean("flag") is True
    assert request.get_boolean("off") is True  # a present query flag is true, whatever its value
    assert request.get_boolean("absent") is False
    assert request.get_array("list") == ["a", "b"]
    assert request.get_array("json") == [1, 2]
    assert request.get_object("obj") == {"k": 1}


def test_response_headers() -> None:
    request = KuzzleRequest({})
    request.response.set_header("Content-Type", "text/plain")
    request.response.set_header("content-type", "text/html")
    assert request.response.headers == {"content-type": "text/html"}
    request.response.status = 201
    assert request.status == 201


def test_set_error_wraps() -> None:
    request = KuzzleRequest({})
    request.set_error(ValueError("bad"))
    assert request.error.id == "plugin.runtime.unexpected_error" and request.status == 500
    request.clear_error()
    assert request.error is None and request.status == 200


def test_a_request_is_freed_without_the_garbage_collector() -> None:
    import gc
    import weakref

    gc.disable()
    try:
        request = KuzzleRequest({"controller": "server", "action": "now"})
        request.set_result({"now": 1})
        ref = weakref.ref(request)
        del request
        assert ref() is None  # no reference cycle: freed as soon as the last reference goes
    finally:
        gc.enable()


def _fields(part: object) -> dict[str, object]:
    return {name: getattr(part, name) for name in type(part).__slots__}


@pytest.mark.parametrize(
    ("data", "user", "token"),
    [
        ({}, ANONYMOUS, None),
        ({"controller": "c", "action": "a", "body": [1], "jwt": "t", "volatile": {"v": 2}, "k": 3}, User("u"), "tok"),
    ],
)
def test_the_parts_a_request_makes_inline_equal_those_of_their_constructors(
    data: dict[str, object], user: User, token: object
) -> None:
    connection = Connection(protocol="websocket")
    request = KuzzleRequest(data, connection=connection, user=user, token=token)
    args = {key: value for key, value in data.items() if key not in ("controller", "action", "body", "jwt", "volatile")}
    made = RequestInput(data.get("controller"), data.get("action"), args, data.get("body"), data.get("jwt"),
                        data.get("volatile"))  # fmt: skip
    assert type(request.input) is RequestInput and _fields(request.input) == _fields(made)
    context = RequestContext(connection, user, token)
    assert type(request.context) is RequestContext and _fields(request.context) == _fields(context)
    assert type(request.response) is RequestResponse and _fields(request.response) == _fields(RequestResponse())
    # Each request has a headers dict of its own.
    assert request.response.headers is not KuzzleRequest(data).response.headers
