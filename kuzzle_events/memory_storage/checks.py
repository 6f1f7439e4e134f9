"""The checks and reshaping of ``ms`` arguments, with Kuzzle's errors, and how values reach Redis.

Kuzzle's checks are JavaScript's: a number is whatever ``parseFloat`` reads a number from
(``"12.5"``, ``"3km"``), an integer whatever ``parseInt`` does; values are sent to Redis as
JavaScript writes them (``2`` not ``2.0``, ``true``).
"""

from __future__ import annotations

import math
import re
from typing import Any

from kuzzle_events import errors

__all__ = [
    "assert_float",
    "assert_int",
    "to_array",
    "upper_array",
    "limit",
    "scan_match",
    "scan_count",
    "geopoints",
    "field_entries",
    "key_entries",
    "is_plain_object",
    "truthy",
    "redis_arguments",
]

_FLOAT = re.compile(r"^\s*[+-]?(Infinity|\d+\.?\d*(e[+-]?\d+)?|\.\d+(e[+-]?\d+)?)", re.IGNORECASE)
_INT = re.compile(r"^\s*[+-]?(0x[0-9a-f]|\d)", re.IGNORECASE)


def _js(value: Any) -> str:
    """``value`` as JavaScript's ``String(value)`` writes it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return ",".join("" if item is None else _js(item) for item in value)
    return "[object Object]"


def _number_text(value: Any, pattern: re.Pattern[str]) -> bool:
    if isinstance(value, list):  # parseFloat would read an array's first item
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return not (isinstance(value, float) and math.isnan(value))
    return bool(pattern.match(_js(value)))


def assert_float(name: str, value: Any) -> None:
    """Kuzzle's ``assertFloat``: ``api.assert.invalid_type`` unless a number can be read from ``value``."""
    if not _number_text(value, _FLOAT):
        raise errors.get("api.assert.invalid_type", name, "number")


def assert_int(name: str, value: Any) -> None:
    """Kuzzle's ``assertInt``: ``api.assert.invalid_type`` unless an integer can be read from ``value``."""
    if not _number_text(value, _INT):
        raise errors.get("api.assert.invalid_type", name, "integer")


def truthy(value: Any) -> bool:
    """JavaScript's truthiness of a JSON value (``[]`` and ``{}`` are true)."""
    if isinstance(value, (list, dict)):
        return True
    if isinstance(value, float) and math.isnan(value):
        return False
    return bool(value)


def is_plain_object(value: Any) -> bool:
    return isinstance(value, dict)


def to_array(value: Any) -> Any:
    """A comma-separated string as a list (query strings carry lists so); anything else as it is."""
    return value.split(",") if isinstance(value, str) else value


def upper_array(value: Any) -> list[Any]:
    """Options such as ``["withscores"]`` (or ``"withscores,withdist"``), upper-cased."""
    items = to_array(value)
    if not isinstance(items, list):
        items = [items]
    return [item.upper() if isinstance(item, str) else item for item in items]


def limit(value: Any) -> list[Any]:
    """``limit``: ``[offset, count]`` (or ``"offset,count"``) as ``LIMIT offset count``."""
    items = to_array(value)
    result = ["LIMIT", *(items if isinstance(items, list) else [items])]
    if len(result) != 3:
        raise errors.get("api.assert.invalid_argument", "limit", "<offset, count>")
    return result


def scan_match(value: Any) -> list[Any]:
    if not isinstance(value, str):
        raise errors.get("api.assert.invalid_type", "match", "<string>")
    return ["MATCH", value]


def scan_count(value: Any) -> list[Any]:
    assert_int("count", value)
    return ["COUNT", value]


def _body_list(body: Any, name: str) -> list[Any]:
    # Kuzzle's assertBodyHasAttribute and assertBodyAttributeType(..., "array").
    value = body.get(name) if isinstance(body, dict) else None
    if value is None:
        raise errors.get("api.assert.missing_argument", f"body.{name}")
    if not isinstance(value, list):
        raise errors.get("api.assert.invalid_type", f"body.{name}", "array")
    return value


def geopoints(value: Any) -> list[Any]:
    """``points``: ``[{lon, lat, name}, ...]`` as ``lon lat name ...``."""
    points = _body_list({"points": value}, "points")
    if not points:
        raise errors.get("api.assert.empty_argument", "points")
    result: list[Any] = []
    for point in points:
        # As Kuzzle's: a point needs a truthy lon, lat and name (so 0 is refused).
        if not isinstance(point, dict) or not all(truthy(point.get(k)) for k in ("lon", "lat", "name")):
            raise errors.get("api.assert.invalid_argument", "points", "<array of geopoints>")
        assert_float("lon", point["lon"])
        assert_float("lat", point["lat"])
        result += [point["lon"], point["lat"], point["name"]]
    return result


def _entries(value: Any, key: str) -> list[Any]:
    entries = _body_list({"entries": value}, "entries")
    result: list[Any] = []
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or not truthy(entry.get(key))
            or (not truthy(entry.get("value")) and entry.get("value") != 0)
            or entry.get("value") is False
        ):
            raise errors.get("api.assert.invalid_argument", "entries", "<array of objects>")
        result += [entry[key], entry["value"]]
    return result


def field_entries(value: Any) -> list[Any]:
    """``hmset``'s ``entries``: ``[{field, value}, ...]`` as ``field value ...``."""
    return _entries(value, "field")


def key_entries(value: Any) -> list[Any]:
    """``mset``'s ``entries``: ``[{key, value}, ...]`` as ``key value ...``."""
    return _entries(value, "key")


def redis_arguments(values: list[Any]) -> list[str]:
    """The command's arguments as Redis receives them: lists spread one level, values as text."""
    flat: list[Any] = []
    for value in values:
        if isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    return [_js(value) for value in flat]
