"""``KuzzleResponse``: a finished request as Kuzzle's envelope, the same on every protocol.

The result is turned into JSON once, by the funnel (an unserializable result is an error the
client can read, not a crash), and every protocol reuses that text.
"""

from __future__ import annotations

import json
from typing import Any

from . import errors
from .request import KuzzleRequest

__all__ = ["KuzzleResponse", "dumps"]

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
dumps = _encoder.encode


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
        """Serialize the result now; an unserializable one turns the response into an error."""
        request = self.request
        if request.error is not None or (self.raw and isinstance(request.result, (bytes, str))):
            return
        try:
            self._result_json = dumps(request.result)
        except (TypeError, ValueError, RecursionError) as error:
            request.set_error(
                errors.get(
                    "plugin.controller.unserializable_response", request.input.controller, request.input.action, error
                )
            )

    def _head(self) -> dict[str, Any]:
        request = self.request
        args = request.input.args
        error = request.error
        return {
            "requestId": request.id,
            "status": request.status,
            "error": error.to_dict(stack=self.stack) if error is not None else None,
            "controller": request.input.controller,
            "action": request.input.action,
            "collection": args.get("collection"),
            "index": args.get("index"),
            "volatile": request.input.volatile,
            "headers": request.response.headers,
            "node": self.node,
            "deprecations": [],
        }

    def to_dict(self) -> dict[str, Any]:
        """The envelope as a dict (what ``app.sdk.query`` returns)."""
        head = self._head()
        head["result"] = self.request.result if self.request.error is None else None
        return head

    def to_json(self, *, room: bool = False) -> str:
        """The envelope as JSON text; ``room`` adds ``"room": requestId`` for WebSocket clients."""
        head = self._head()
        if room:
            head["room"] = self.request.id
        text = dumps(head)
        if self.request.error is not None:
            result = "null"
        elif self._result_json is not None:
            result = self._result_json
        else:
            result = dumps(self.request.result)
        return f'{text[:-1]},"result":{result}}}'

    def raw_body(self) -> tuple[bytes, str]:
        """``(body, content type)`` of a raw response: bytes as is, text as text, else JSON."""
        result = self.request.result
        if isinstance(result, bytes):
            return result, "application/octet-stream"
        if isinstance(result, str):
            return result.encode(), "text/plain; charset=utf-8"
        return (self._result_json or dumps(result)).encode(), "application/json"
