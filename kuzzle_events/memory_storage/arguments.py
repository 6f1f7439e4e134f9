"""The arguments of an ``ms`` action's Redis command, read from the request as Kuzzle 2.56 reads them.

:func:`command_arguments` follows the table of :mod:`~kuzzle_events.memory_storage.mapping`; ``set``,
``sort``, ``zadd``, ``zinterstore`` / ``zunionstore`` and ``mexecute`` have readers of their own,
with their options and checks. Every bad input is one of Kuzzle's ``api.assert.*`` errors.
"""

from __future__ import annotations

from typing import Any

from kuzzle_events import errors
from kuzzle_events.memory_storage import checks
from kuzzle_events.memory_storage.mapping import MAPPING, Field

__all__ = ["command_arguments", "transaction"]

# A request's data as mexecute's sub-requests give it: every key but these is an argument.
_NOT_ARGUMENTS = frozenset({"body", "controller", "action", "jwt", "volatile", "requestId"})


def _read(field: Field, args: dict[str, Any], body: Any) -> Any:
    if field.source == ("_id",):
        return args.get("_id")
    where, name = field.source
    container = args if where == "args" else body
    return container.get(name) if isinstance(container, dict) else None


def command_arguments(action: str, args: dict[str, Any], body: Any) -> list[Any]:
    """The arguments of ``action``'s command (before :func:`checks.redis_arguments` writes them)."""
    reader = _READERS.get(action)
    if reader is not None:
        return reader(args, body)
    fields = MAPPING[action]
    result: list[Any] = []
    for field in fields or ():
        value = _read(field, args, body)
        if value is None:
            if field.optional:
                continue
            raise errors.get("api.assert.missing_argument", field.name)
        if field.convert is not None:
            value = field.convert(value)
        if field.merge and isinstance(value, list):
            result.extend(value)
        else:
            result.append(value)
    return result


def _require_id(args: dict[str, Any]) -> str:
    key = args.get("_id")
    if not key:
        raise errors.get("api.assert.missing_argument", "_id")
    return str(key)


def _require_body(body: Any) -> dict[str, Any]:
    if body is None:
        raise errors.get("api.assert.body_required")
    if not isinstance(body, dict):
        raise errors.get("api.assert.invalid_type", "body", "object")
    return body


def _body_list(body: dict[str, Any], name: str) -> list[Any]:
    value = body.get(name)
    if value is None:
        raise errors.get("api.assert.missing_argument", f"body.{name}")
    if not isinstance(value, list):
        raise errors.get("api.assert.invalid_type", f"body.{name}", "array")
    return value


def _set(args: dict[str, Any], body: Any) -> list[Any]:
    """``set``: ``value``, and ``ex`` / ``px`` (a lifetime), ``nx`` / ``xx`` (only if absent / present)."""
    key = _require_id(args)
    body = _require_body(body)
    value = body.get("value")
    if value is None or isinstance(value, (bool, dict, list)):
        raise errors.get("api.assert.invalid_type", "value", "string, number")
    if checks.truthy(body.get("nx")) and checks.truthy(body.get("xx")):
        raise errors.get("api.assert.mutually_exclusive", "nx", "xx")
    if checks.truthy(body.get("ex")) and checks.truthy(body.get("px")):
        raise errors.get("api.assert.mutually_exclusive", "ex", "px")
    result = [key, value]
    for option in ("ex", "px"):
        if option in body:
            result += [option.upper(), body[option]]
    result += [flag.upper() for flag in ("nx", "xx") if checks.truthy(body.get(flag))]
    return result


def _sort(args: dict[str, Any], body: Any) -> list[Any]:
    """``sort``: ``alpha``, ``direction``, ``by``, ``limit`` ``[offset, count]``, ``get`` patterns, ``store``."""
    result: list[Any] = [_require_id(args)]
    if not isinstance(body, dict):
        return result
    if checks.truthy(body.get("alpha")):
        result.append("ALPHA")
    if body.get("direction") is not None:
        direction = body["direction"].upper() if isinstance(body["direction"], str) else None
        if direction not in ("ASC", "DESC"):
            raise errors.get("api.assert.invalid_argument", "direction", '"ASC", "DESC"')
        result.append(direction)
    if body.get("by") is not None:
        result += ["BY", body["by"]]
    if body.get("limit") is not None:
        if not isinstance(body["limit"], list):
            raise errors.get("api.assert.invalid_type", "body.limit", "array")
        bounds = [*body["limit"], None, None][:2]
        checks.assert_int("limit.offset", bounds[0])
        checks.assert_int("limit.count", bounds[1])
        result += ["LIMIT", *bounds]
    if body.get("get") is not None:
        for pattern in _body_list(body, "get"):
            result += ["GET", pattern]
    if body.get("store") is not None:
        result += ["STORE", body["store"]]
    return result


def _zadd(args: dict[str, Any], body: Any) -> list[Any]:
    """``zadd``: ``elements`` ``[{score, member}, ...]``, and the ``nx``, ``xx``, ``ch``, ``incr`` flags."""
    key = _require_id(args)
    body = _require_body(body)
    elements = _body_list(body, "elements")
    if checks.truthy(body.get("nx")) and checks.truthy(body.get("xx")):
        raise errors.get("api.assert.mutually_exclusive", "nx", "xx")
    result: list[Any] = [key]
    result += [flag.upper() for flag in ("nx", "xx", "ch", "incr") if checks.truthy(body.get(flag))]
    if not elements:
        raise errors.get("api.assert.empty_argument", "elements")
    if checks.truthy(body.get("incr")) and len(elements) > 1:
        raise errors.get("api.assert.too_many_arguments", "elements")
    for index, element in enumerate(elements):
        if not isinstance(element, dict):
            raise errors.get("api.assert.invalid_argument", "elements", "<array of objects>")
        if not checks.truthy(element.get("member")):
            raise errors.get("api.assert.missing_argument", f"elements[{index}].member")
        checks.assert_float("score", element.get("score"))
        result += [element["score"], element["member"]]
    return result


def _zstore(args: dict[str, Any], body: Any) -> list[Any]:
    """``zinterstore`` / ``zunionstore``: ``keys``, and ``weights`` and ``aggregate`` (SUM, MIN, MAX)."""
    destination = _require_id(args)
    body = _require_body(body)
    keys = _body_list(body, "keys")
    if not keys:
        raise errors.get("api.assert.empty_argument", "keys")
    result: list[Any] = [destination, len(keys), *keys]
    if checks.truthy(body.get("weights")):
        weights = _body_list(body, "weights")
        if weights:
            result += ["WEIGHTS", *weights]
    if checks.truthy(body.get("aggregate")):
        if not isinstance(body["aggregate"], str):
            raise errors.get("api.assert.invalid_type", "body.aggregate", "string")
        aggregate = body["aggregate"].upper()
        if aggregate not in ("SUM", "MIN", "MAX"):
            raise errors.get("api.assert.invalid_argument", "aggregate", '"SUM", "MIN" or "MAX"')
        result += ["AGGREGATE", aggregate]
    return result


def transaction(args: dict[str, Any], body: Any) -> list[tuple[str, list[Any]]]:
    """``mexecute``'s ``actions``: ``[{action, args}, ...]`` as ``[(command, arguments), ...]``.

    Each action's ``args`` is a request of its own (``_id``, arguments, ``body``); ``mexecute``
    itself, and names that are no ``ms`` action, are refused.
    """
    actions = _body_list(_require_body(body), "actions")
    commands: list[tuple[str, list[Any]]] = []
    for item in actions:
        if not isinstance(item, dict) or "action" not in item:
            raise errors.get("api.assert.missing_argument", "action")
        if "args" not in item:
            raise errors.get("api.assert.missing_argument", "args")
        if not isinstance(item["args"], dict):
            raise errors.get("api.assert.invalid_type", "args", "object")
        action = item["action"]
        if action == "mexecute" or not isinstance(action, str) or action not in MAPPING:
            raise errors.get("api.assert.forbidden_argument", str(action))
        data = item["args"]
        sub_args = {k: v for k, v in data.items() if k not in _NOT_ARGUMENTS}
        commands.append((action, command_arguments(action, sub_args, data.get("body"))))
    return commands


_READERS = {
    "set": _set,
    "sort": _sort,
    "zadd": _zadd,
    "zinterstore": _zstore,
    "zunionstore": _zstore,
}
