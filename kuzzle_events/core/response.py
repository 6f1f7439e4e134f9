"""``KuzzleResponse``: a finished request as Kuzzle's envelope, the same on every protocol.

The result is turned into JSON once, by the funnel (an unserializable result is an error the
client can read, not a crash), and every protocol reuses that text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from kuzzle_events import errors
from kuzzle_events.core.request import KuzzleRequest
from kuzzle_events.core.streams import HttpStream

__all__ = ["KuzzleResponse", "dumps", "encodable", "envelope_headers"]

try:
    from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
except ImportError:  # an interpreter without the C accelerator
    _c_make_encoder = None
from json.encoder import encode_basestring as _string

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _unserializable(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


dumps: Callable[[Any], str]
if _c_make_encoder is None:
    dumps = _encoder.encode
else:
    # json.JSONEncoder.encode builds a new C encoder for every call, which costs more than
    # encoding an envelope. This one is built once: without the circular-reference check
    # (markers=None), so it can be reused, and a cycle ends in RecursionError.
    _c_encode = _c_make_encoder(None, _unserializable, _string, None, ":", ",", False, False, False)

    def dumps(value: Any) -> str:
        """Compact JSON text (non-ASCII characters as they are, no NaN or infinity)."""
        return "".join(_c_encode(value, 0))


_ROOM = ',"room":'
_RESULT = ',"result":'
_DEPRECATIONS = ',"deprecations":'
_TRACE = ',"trace":'
# A lone surrogate, the one character a str can hold and UTF-8 cannot encode.
_SURROGATE = re.compile("[\ud800-\udfff]")


def encodable(text: str) -> bool:
    """Whether ``text`` can be sent as UTF-8 (ASCII, the usual case, is answered without encoding)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _is_json(value: Any) -> bool:
    try:
        dumps(value)
    except (TypeError, ValueError, RecursionError):
        return False
    return True


# Values the encoder writes without a failure: bool and None; ints of a size far from the limit
# on digits that int-to-text conversion has (sys.set_int_max_str_digits); ASCII strings (nothing
# UTF-8 cannot encode). Exact types: a subclass may encode differently.
_INT_BOUND = 1 << 64


def _plain(value: Any) -> bool:
    """Whether ``dumps(value)`` is known to succeed, as text UTF-8 can encode, without running it:
    None, or a dict of at most 8 ASCII string keys with plain values (None, bool, small int, ASCII
    str). False means "not known", not "fails". Most results of the actions the server's own code
    runs (``server:now``, counts, ids, acknowledgements) are such dicts; deciding it costs less
    than encoding them."""
    if value is None:
        return True
    if type(value) is not dict or len(value) > 8:
        return False
    for key, item in value.items():
        if type(key) is not str or not key.isascii():
            return False
        kind = type(item)
        if kind is str:
            if not item.isascii():
                return False
        elif kind is int:
            if not -_INT_BOUND < item < _INT_BOUND:
                return False
        elif item is not None and kind is not bool:
            return False
    return True


def _escape_surrogates(text: str) -> str:
    # The JSON encoder writes characters only inside strings, where an escape means the same.
    return _SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def envelope_headers(headers: dict[str, Any]) -> dict[str, Any]:
    """The headers an action set, as the envelope carries them (Kuzzle's): names lower-cased,
    without ``set-cookie``, which only an HTTP answer's own headers carry."""
    return {name.lower(): value for name, value in headers.items() if name.lower() != "set-cookie"}


def _value(value: Any) -> str:
    """JSON of an envelope field, strings (the usual case) without the general encoder."""
    if value is None:
        return "null"
    if type(value) is str:
        return _string(value)
    return dumps(value)


class KuzzleResponse:
    """The envelope of one request: ``to_dict()``, ``to_json()``, or the raw body."""

    __slots__ = ("request", "node", "stack", "_result_json")

    def __init__(self, request: KuzzleRequest, *, node: str = "knode-1", stack: bool = False) -> None:
        self.request = request
        self.node = node
        self.stack = stack
        self._result_json: str | None = None

    @property
    def status(self) -> int:
        return self.request.status

    @property
    def raw(self) -> bool:
        return self.request.response.raw and self.request.error is None

    @property
    def headers(self) -> dict[str, str]:
        return self.request.response.headers

    def seal(self) -> None:
        """Serialize the result now; an unserializable one (a string UTF-8 cannot encode included)
        turns the response into an error."""
        request = self.request
        if request.error is not None:
            return
        result = request.result
        raw = request.response.raw
        if raw and isinstance(result, bytes):
            return
        try:
            text = result if raw and isinstance(result, str) else dumps(result)
            if not (text.isascii() or encodable(text)):
                raise ValueError("a string holds an unpaired surrogate")
        except (TypeError, ValueError, RecursionError) as error:
            # (Checked here, where encoding failed, rather than for every result.)
            if isinstance(result, HttpStream):
                if request.context.connection.protocol == "http":
                    return  # sent by the HTTP adapter as it comes
                request.set_error(errors.get("api.assert.forbidden_stream"))
                return
            self._unsendable(error)
            return
        if text is not result:
            self._result_json = text

    def check(self) -> None:
        """:meth:`seal` for a response read as a dict (:meth:`to_dict`, ``app.sdk.query``): the
        same errors, without the JSON text, which nothing reads then. A result of plain values
        (see :func:`_plain`) is known to encode without encoding it; any other is sealed."""
        request = self.request
        if request.error is None and not _plain(request.result):
            self.seal()

    def _unsendable(self, error: BaseException) -> None:
        request = self.request
        request.set_error(
            errors.get("plugin.controller.unserializable_response", request.input.controller, request.input.action, error)
        )

    def sendable_json(self, *, room: bool = False) -> str:
        """:meth:`to_json`, as text UTF-8 can encode: an envelope that cannot be sent (an unpaired
        surrogate in a header or an error message, volatile data set to what JSON cannot
        carry...) is answered as the 500 of an unserializable response, without the handler's
        headers (and volatile data), and a surrogate left in a field the client gave is sent escaped."""
        try:
            text = self.to_json(room=room)
            if text.isascii() or encodable(text):
                return text
            problem: BaseException = ValueError("a string holds an unpaired surrogate")
        except (TypeError, ValueError, RecursionError) as error:  # a field set to what JSON cannot carry
            problem = error
        self._unsendable(problem)
        request = self.request
        request.response.headers.clear()
        if request.input.volatile is not None and not _is_json(request.input.volatile):
            request.input.volatile = None
        text = self.to_json(room=room)
        return text if encodable(text) else _escape_surrogates(text)

    def to_dict(self) -> dict[str, Any]:
        """The envelope as a dict (what ``app.sdk.query`` returns)."""
        request = self.request
        given = request.input
        args = given.args
        error = request.error
        headers = request.response.headers
        head: dict[str, Any] = {
            "requestId": request.id,
            "status": request.response.status,
            "error": error.to_dict(stack=self.stack) if error is not None else None,
            "controller": given._controller,  # (the properties' fields: no calls)
            "action": given._action,
            "collection": args.get("collection"),
            "index": args.get("index"),
            "volatile": given.volatile,
            # (The comprehension of envelope_headers is a function call: not for no headers.)
            "headers": envelope_headers(headers) if headers else {},
            "node": self.node,
        }
        # Kuzzle's envelope has "deprecations" only when there are some.
        if request.response.deprecations is not None:
            head["deprecations"] = request.response.deprecations
        if error is not None:
            head["result"] = error.result
        elif request.result is not None or not request.response.no_result:
            head["result"] = request.result
        trace = request.trace
        if trace is not None:
            head["trace"] = trace.to_dict()
        return head

    def to_json(self, *, room: bool = False) -> str:
        """The envelope as JSON text; ``room`` adds ``"room": requestId`` for WebSocket clients.

        The same text as encoding :meth:`to_dict`, written field by field: every response of every
        protocol goes through here, and most fields are null, empty or a plain string, which need
        no call to the general encoder (nor to any function, written inline as they are below).
        """
        request = self.request
        given = request.input
        args = given.args
        answer = request.response
        error = request.error
        if error is None:
            error_json = "null"
            result = self._result_json
            if result is None:
                result = dumps(request.result)
        else:
            error_json = dumps(error.to_dict(stack=self.stack))
            result = "null" if error.result is None else dumps(error.result)
        request_id = request.id
        request_id = _string(request_id) if type(request_id) is str else _value(request_id)
        status = answer.status
        controller = given.controller
        action = given.action
        collection = args.get("collection")
        index = args.get("index")
        volatile = given.volatile
        headers = answer.headers
        trace = request.trace  # only a request that asked for it, and may see it, has one
        deprecations = answer.deprecations  # (the key only when there are some, as Kuzzle's)
        return (
            f'{{"requestId":{request_id}'
            f',"status":{status if type(status) is int else dumps(status)}'
            f',"error":{error_json}'
            f',"controller":{_string(controller) if type(controller) is str else _value(controller)}'
            f',"action":{_string(action) if type(action) is str else _value(action)}'
            f',"collection":{"null" if collection is None else _value(collection)}'
            f',"index":{"null" if index is None else _value(index)}'
            f',"volatile":{"null" if volatile is None else dumps(volatile)}'
            f',"headers":{dumps(envelope_headers(headers)) if headers else "{}"}'
            f',"node":{_value(self.node)}'
            f"{'' if deprecations is None else _DEPRECATIONS + dumps(deprecations)}"
            f"{_ROOM + request_id if room else ''}"
            f"{'' if answer.no_result and result == 'null' and error is None else _RESULT + result}"
            f"{'}' if trace is None else _TRACE + dumps(trace.to_dict()) + '}'}"
        )

    def raw_body(self) -> tuple[bytes, str]:
        """``(body, content type)`` of a raw response: bytes as is, text as text, else JSON."""
        result = self.request.result
        if isinstance(result, bytes):
            return result, "application/octet-stream"
        if isinstance(result, str):
            return result.encode(), "text/plain; charset=utf-8"
        return (self._result_json or dumps(result)).encode(), "application/json"
