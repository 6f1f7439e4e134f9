"""``KuzzleRequest``: one API call normalised from any protocol, with its context and response."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, cast

from kuzzle_events import errors
from kuzzle_events.core import jsontext
from kuzzle_events.core.identifiers import new_id
from kuzzle_events.core.traces import Trace, asks_trace
from kuzzle_events.core.users import ANONYMOUS, NOBODY, User

__all__ = [
    "KuzzleRequest",
    "check_request_id",
    "RequestInput",
    "RequestResource",
    "RequestContext",
    "Connection",
    "User",
    "ANONYMOUS",
    "NOBODY",
]

_MISSING: Any = object()
_new = object.__new__
# Root keys of a non-HTTP request that are not arguments.
_ROOT_KEYS = frozenset({"controller", "action", "body", "jwt", "volatile", "requestId"})


def check_request_id(value: Any) -> None:
    """Raise Kuzzle's 400 for a client's ``requestId`` that is neither absent nor a string of
    printable characters: it is echoed in headers, frames and logs, where a control character
    (NUL, CR, LF...) would break the answer."""
    if value is None or (type(value) is str and value.isprintable()):
        return
    if not isinstance(value, str):
        raise errors.get("api.assert.invalid_type", "requestId", "string")
    raise errors.get("api.assert.invalid_argument", "requestId", "printable characters only")


class Connection:
    """Where a request came from: ``protocol`` is ``http``, ``websocket``, ``internal``..."""

    __slots__ = ("id", "protocol", "ips", "misc")

    def __init__(
        self,
        id: str | None = None,
        protocol: str = "internal",
        ips: list[str] | None = None,
        misc: dict[str, Any] | None = None,
    ) -> None:
        self.id = id or new_id()
        self.protocol = protocol
        self.ips = ips or []
        self.misc = misc if misc is not None else {}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "protocol": self.protocol, "ips": self.ips, "misc": self.misc}


class RequestContext:
    """Who sent the request, over which connection, with which verified token.

    ``check_rights`` is False for trusted code of the server itself (``app.sdk``, the in-process
    ``kuzzle`` command): such a request runs whatever its user's rights, unless it carries a token.
    """

    __slots__ = ("connection", "user", "token", "check_rights")

    def __init__(self, connection: Connection, user: User = ANONYMOUS, token: Any = None) -> None:
        self.connection = connection
        self.user = user
        self.token = token
        self.check_rights = True


class RequestResource:
    """``index``, ``collection`` and ``_id``: a view of the request's arguments."""

    __slots__ = ("_args",)

    def __init__(self, args: dict[str, Any]) -> None:
        self._args = args

    def _get(self, key: str) -> Any:
        return self._args.get(key)

    def _set(self, key: str, value: Any) -> None:
        self._args[key] = value

    index = property(lambda self: self._get("index"), lambda self, v: self._set("index", v))
    collection = property(lambda self: self._get("collection"), lambda self, v: self._set("collection", v))
    _id = property(lambda self: self._get("_id"), lambda self, v: self._set("_id", v))


class RequestInput:
    """What the client asked: controller, action, arguments, body, token and volatile data."""

    __slots__ = ("_controller", "_action", "args", "body", "jwt", "volatile")

    def __init__(
        self,
        controller: str | None = None,
        action: str | None = None,
        args: dict[str, Any] | None = None,
        body: Any = None,
        jwt: str | None = None,
        volatile: dict[str, Any] | None = None,
    ) -> None:
        self._controller = controller
        self._action = action
        self.args: dict[str, Any] = {} if args is None else args
        self.body = body
        self.jwt = jwt
        self.volatile = volatile

    @property
    def controller(self) -> str | None:
        return self._controller

    @controller.setter
    def controller(self, value: str) -> None:
        if self._controller is not None and value != self._controller:
            raise errors.InternalError("The request's controller is already set.", "core.fatal.unexpected_error")
        self._controller = value

    @property
    def action(self) -> str | None:
        return self._action

    @action.setter
    def action(self, value: str) -> None:
        if self._action is not None and value != self._action:
            raise errors.InternalError("The request's action is already set.", "core.fatal.unexpected_error")
        self._action = value

    @property
    def resource(self) -> RequestResource:
        return RequestResource(self.args)


class RequestResponse:
    """How the answer is sent: ``raw`` skips the envelope; headers go to HTTP responses;
    ``no_result``: a null result is left out of the envelope (no ``result`` key), as Kuzzle's JSON
    leaves out the result of an action that answers nothing (``index:create``)."""

    # No reference back to the request: a cycle would leave every request to the garbage
    # collector, whose full passes pause a busy server for tens of milliseconds.
    __slots__ = ("status", "raw", "headers", "no_result", "deprecations")

    def __init__(self) -> None:
        self.status = 102
        self.raw = False
        self.headers: dict[str, str] = {}
        self.no_result = False
        # Kuzzle's deprecations ({"version", "message"}) of what the request used; None: none.
        self.deprecations: list[dict[str, str]] | None = None

    def set_header(self, name: str, value: str) -> None:
        """Set a header, replacing any of the same name whatever its case."""
        for existing in [h for h in self.headers if h.lower() == name.lower()]:
            del self.headers[existing]
        self.headers[name] = str(value)

    def get_header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lower), None)


class KuzzleRequest:
    """An API request: ``input``, ``context``, ``response``, ``result``, ``error``.

    ``data`` is a request as non-HTTP protocols send it: ``controller``, ``action``, ``body``,
    ``jwt``, ``volatile`` and ``requestId`` at their places, every other key (``index``,
    ``collection``, ``_id`` included) an argument.
    """

    __slots__ = (
        "input", "context", "response", "result", "error", "id", "timestamp", "trace", "__dict__", "__weakref__",
    )  # fmt: skip

    def __init__(
        self,
        data: Mapping[str, Any] | None = None,
        *,
        connection: Connection | None = None,
        user: User = ANONYMOUS,
        token: Any = None,
    ) -> None:
        data = data or {}
        get = data.get
        # A loop rather than a comprehension: in this interpreter a comprehension is a function
        # made and called at every request (the same dict, in the same order).
        args: dict[str, Any] = {}
        for key, value in data.items():
            if key not in _ROOT_KEYS:
                args[key] = value
        # The three parts made without their constructors: a class call runs a frame of its own in
        # this interpreter, and these are a quarter of a quiet request's cost. Their __init__ stay
        # the definition; tests/core/test_request.py holds each part to what its __init__ makes.
        given = self.input = _new(RequestInput)
        given._controller = get("controller")
        given._action = get("action")
        given.args = args
        given.body = get("body")
        given.jwt = get("jwt")
        given.volatile = get("volatile")
        context = self.context = _new(RequestContext)
        context.connection = connection or Connection()
        context.user = user
        context.token = token
        context.check_rights = True
        response = self.response = _new(RequestResponse)
        response.status = 102
        response.raw = False
        response.headers = {}
        response.no_result = False
        response.deprecations = None
        self.result: Any = None
        self.error: errors.KuzzleError | None = None
        self.timestamp = time.time_ns() // 1_000_000
        # The trace the client asked for ("trace": true, left among the arguments as well); the
        # funnel fills it (see core.traces).
        trace = get("trace")
        self.trace: Trace | None = None if trace is None or not asks_trace(trace) else Trace()
        request_id = get("requestId")
        if type(request_id) is not str:
            request_id = new_id() if request_id is None else str(request_id)
        self.id: str = request_id

    def add_deprecation(self, version: str, message: str) -> None:
        """Name in the answer's ``deprecations`` something deprecated the request used (a route,
        an argument...), as Kuzzle's ``request.addDeprecation``."""
        entry = {"version": version, "message": message}
        if self.response.deprecations is None:
            self.response.deprecations = [entry]
        else:
            self.response.deprecations.append(entry)

    @property
    def status(self) -> int:
        """102 until done, then the HTTP-like status (the same as ``response.status``)."""
        return self.response.status

    @status.setter
    def status(self, value: int) -> None:
        self.response.status = value

    # Outcome ----------------------------------------------------------------------------------

    def set_result(self, result: Any, status: int = 200) -> None:
        self.result = result
        self.error = None
        self.status = status

    def set_error(self, error: BaseException) -> None:
        """Fail the request with ``error`` as a Kuzzle error (:func:`kuzzle_events.errors.from_exception`)."""
        self.error = errors.from_exception(error)
        self.status = self.error.status

    def clear_error(self) -> None:
        self.error = None
        self.status = 200

    # Typed getters (Kuzzle's api.assert.* errors) -----------------------------------------------

    @property
    def _is_http(self) -> bool:
        return self.context.connection.protocol == "http"

    def get_body(self, default: Any = _MISSING) -> dict[str, Any]:
        body = self.input.body
        if body is None:
            if default is _MISSING:
                raise errors.get("api.assert.body_required")
            return cast("dict[str, Any]", default)
        if not isinstance(body, dict):
            raise errors.get("api.assert.invalid_type", "body", "object")
        return body

    def _arg(self, name: str, default: Any) -> Any:
        value = self.input.args.get(name)
        if value is None:
            if default is _MISSING:
                raise errors.get("api.assert.missing_argument", name)
            return _MISSING
        return value

    def get_string(self, name: str, default: Any = _MISSING) -> str:
        value = self._arg(name, default)
        if value is _MISSING:
            return cast("str", default)
        if not isinstance(value, str):
            raise errors.get("api.assert.invalid_type", name, "string")
        return value

    def get_boolean(self, name: str) -> bool:
        """A flag: absent is False; over HTTP a present query flag is True, whatever its value."""
        value = self.input.args.get(name)
        if value is None:
            return False
        if self._is_http:
            return True
        if not isinstance(value, bool):
            raise errors.get("api.assert.invalid_type", name, "boolean")
        return value

    def get_integer(self, name: str, default: Any = _MISSING) -> int:
        value = self._arg(name, default)
        if value is _MISSING:
            return cast("int", default)
        if isinstance(value, str):
            try:
                value = int(value)
            except ValueError:
                raise errors.get("api.assert.invalid_type", name, "integer") from None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise errors.get("api.assert.invalid_type", name, "integer")
        return value

    def get_number(self, name: str, default: Any = _MISSING) -> float | int:
        value = self._arg(name, default)
        if value is _MISSING:
            return cast("float | int", default)
        if isinstance(value, str):
            try:
                value = float(value) if any(c in value for c in ".eE") else int(value)
            except ValueError:
                raise errors.get("api.assert.invalid_type", name, "number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise errors.get("api.assert.invalid_type", name, "number")
        return value

    def get_array(self, name: str, default: Any = _MISSING) -> list[Any]:
        value = self._arg(name, default)
        if value is _MISSING:
            return cast("list[Any]", default)
        if isinstance(value, str) and self._is_http:
            # The SDK sends arrays in query strings as JSON, people type them comma-separated.
            try:
                decoded = jsontext.loads(value)
            except ValueError:
                decoded = value.split(",")
            value = decoded if isinstance(decoded, list) else [decoded]
        if not isinstance(value, list):
            raise errors.get("api.assert.invalid_type", name, "array")
        return value

    def get_object(self, name: str, default: Any = _MISSING) -> dict[str, Any]:
        value = self._arg(name, default)
        if value is _MISSING:
            return cast("dict[str, Any]", default)
        if isinstance(value, str) and self._is_http:
            try:
                value = jsontext.loads(value)
            except ValueError:
                raise errors.get("api.assert.invalid_type", name, "object") from None
        if not isinstance(value, dict):
            raise errors.get("api.assert.invalid_type", name, "object")
        return value

    def get_index(self) -> str:
        return self.get_string("index")

    def get_collection(self) -> str:
        return self.get_string("collection")

    def get_id(self) -> str:
        return self.get_string("_id")

    def __repr__(self) -> str:
        return f"KuzzleRequest({self.input.controller}:{self.input.action}, id={self.id!r}, status={self.status})"
