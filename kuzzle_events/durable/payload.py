"""The JSON form of an event's payload, as a durable hook's delivery stores it.

A request is stored as its input, context (connection and user, not the token) and outcome; an
error as its Kuzzle error object; anything else must be JSON already (tuples and sets become
lists, dates ISO strings, UUIDs strings). What cannot be stored is refused when the event fires,
naming the hook, so that a delivery never holds a payload its hook could not have been given.
"""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any

from kuzzle_events import errors
from kuzzle_events.core.request import Connection, KuzzleRequest, User

__all__ = ["to_json", "request_form"]


def request_form(request: KuzzleRequest) -> dict[str, Any]:
    """A request as a durable hook receives it (no JWT: a delivery outlives the token)."""
    data = request.input
    return {
        "id": request.id,
        "timestamp": request.timestamp,
        "status": request.status,
        "input": {
            "controller": data.controller,
            "action": data.action,
            "args": data.args,
            "body": data.body,
            "volatile": data.volatile,
        },
        "context": {"connection": request.context.connection.to_dict(), "user": request.context.user.to_dict()},
        "result": request.result,
        "error": None if request.error is None else request.error.to_dict(),
    }


def _default(value: Any) -> Any:
    if isinstance(value, KuzzleRequest):
        return request_form(value)
    if isinstance(value, errors.KuzzleError):
        return value.to_dict()
    if isinstance(value, (User, Connection)):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")


def to_json(payload: tuple[Any, ...], hook: str, event: str) -> list[Any]:
    """``payload`` (an event's arguments) as a JSON list; PluginImplementationError if it cannot be."""
    try:
        return list(json.loads(json.dumps(list(payload), default=_default)))
    except (TypeError, ValueError) as error:
        raise errors.PluginImplementationError(
            f'Durable hook "{hook}": the payload of "{event}" cannot be stored ({error}).',
            "plugin.runtime.unexpected_error",
        ) from error
