"""Values compared as Elasticsearch compares them: in the type the mapping gives their field.

Elasticsearch indexes a field's values in its mapped type, and converts a query's values to it
too: on a ``long`` field the string ``"42"`` is the number 42 (numeric fields ``coerce`` by
default), on a ``keyword`` field the number 42 is the string ``"42"``. :func:`types` reads a
mapping's field types; :func:`document` and :func:`koncorde` / :func:`elasticsearch` put a
document and a query into them, so that an in-memory match agrees with Elasticsearch. No Django here.
"""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["types", "value", "representations", "is_text_kind", "is_number_kind", "document", "koncorde", "elasticsearch"]

Types = dict[str, str]
"""A mapping's field types by dotted path: ``{"ttl": "keyword", "expiresAt": "long"}``."""

_INTEGERS = frozenset({"long", "integer", "short", "byte", "unsigned_long"})
_DECIMALS = frozenset({"double", "float", "half_float", "scaled_float"})
_STRINGS = frozenset({"keyword", "constant_keyword", "wildcard"})


def types(mapping: dict[str, Any], prefix: str = "") -> Types:
    """The types of the fields ``mapping`` declares (``properties``, at any depth)."""
    found: Types = {}
    for name, field in (mapping.get("properties") or {}).items():
        if not isinstance(field, dict):
            continue
        path = f"{prefix}{name}"
        if isinstance(field.get("type"), str):
            found[path] = field["type"]
        found.update(types(field, f"{path}."))
    return found


def value(kind: str, given: Any) -> Any:
    """``given`` in the field type ``kind``, where Elasticsearch converts it; else unchanged."""
    if isinstance(given, list):
        return [value(kind, item) for item in given]
    if kind in _STRINGS:
        return _text(given)
    if kind in _INTEGERS or kind in _DECIMALS:
        number = _number(given)
        if number is None:
            return given
        if kind in _INTEGERS and number == math.trunc(number):
            return int(number)
        return math.trunc(number) if kind in _INTEGERS else float(number)
    if kind == "boolean" and given in ("true", "false"):
        return given == "true"
    return given


def representations(kind: str, given: Any) -> list[Any]:
    """The values a stored document may hold in a field of type ``kind`` that Elasticsearch indexes
    as it indexes ``given``: on a ``keyword`` field ``"42"`` is also the number 42 as sent, on a
    ``long`` field 42 is also the string ``"42"``."""
    typed = value(kind, given)
    found = [typed]
    if kind in _STRINGS and isinstance(typed, str):
        try:
            parsed = json.loads(typed)
        except ValueError:
            parsed = None
        if isinstance(parsed, (bool, int, float)) and json.dumps(parsed) == typed:
            found.append(parsed)
    elif (kind in _INTEGERS or kind in _DECIMALS) and _number(typed) is not None and not isinstance(typed, str):
        found.append(json.dumps(typed))
    elif kind == "boolean" and isinstance(typed, bool):
        found.append(json.dumps(typed))
    return found


def is_text_kind(kind: str | None) -> bool:
    """Whether a field of type ``kind`` is compared as a whole string (a keyword), not as words."""
    return kind in _STRINGS


def is_number_kind(kind: str | None) -> bool:
    return kind in _INTEGERS or kind in _DECIMALS


def _text(given: Any) -> Any:
    # A keyword holds the JSON text of a scalar: 42 -> "42", true -> "true".
    if isinstance(given, bool) or (isinstance(given, (int, float)) and math.isfinite(given)):
        return json.dumps(given)
    return given


def _number(given: Any) -> int | float | None:
    if isinstance(given, bool):
        return None
    if isinstance(given, (int, float)):
        return given
    if isinstance(given, str):
        try:
            number = float(given.strip())
        except ValueError:
            return None
        if not math.isfinite(number):
            return None
        return int(given.strip()) if given.strip().lstrip("-").isdigit() else number
    return None


def document(source: dict[str, Any], kinds: Types, prefix: str = "") -> dict[str, Any]:
    """``source`` with the values of typed fields in their types (a copy; ``source`` is kept)."""
    result: dict[str, Any] = {}
    for key, child in source.items():
        path = f"{prefix}{key}"
        if path in kinds:
            result[key] = value(kinds[path], child)
        elif isinstance(child, dict):
            result[key] = document(child, kinds, f"{path}.")
        elif isinstance(child, list):
            result[key] = [document(c, kinds, f"{path}.") if isinstance(c, dict) else c for c in child]
        else:
            result[key] = child
    return result


def koncorde(filters: Any, kinds: Types) -> Any:
    """Koncorde ``filters`` with the values of ``equals``, ``in`` and ``range`` in their fields' types."""
    if not isinstance(filters, dict) or len(filters) != 1:
        return filters
    ((keyword, clause),) = filters.items()
    if keyword in ("and", "or") and isinstance(clause, list):
        return {keyword: [koncorde(f, kinds) for f in clause]}
    if keyword == "not":
        return {keyword: koncorde(clause, kinds)}
    if keyword in ("equals", "in", "range"):
        return {keyword: _fields(clause, kinds, bounds=keyword == "range")}
    return filters


def elasticsearch(query: Any, kinds: Types) -> Any:
    """An Elasticsearch query with the values of ``term``, ``terms`` and ``range`` in their fields' types."""
    if not isinstance(query, dict):
        return query
    result: dict[str, Any] = {}
    for keyword, clause in query.items():
        if keyword == "bool" and isinstance(clause, dict):
            result[keyword] = {
                k: [elasticsearch(q, kinds) for q in v] if isinstance(v, list) else elasticsearch(v, kinds)
                for k, v in clause.items()
            }
        elif keyword in ("term", "terms", "range"):
            result[keyword] = _fields(clause, kinds, bounds=keyword == "range", options=keyword == "term")
        else:
            result[keyword] = clause
    return result


def _fields(clause: Any, kinds: Types, *, bounds: bool, options: bool = False) -> Any:
    if not isinstance(clause, dict):
        return clause
    result: dict[str, Any] = {}
    for field, given in clause.items():
        kind = kinds.get(field) if isinstance(field, str) else None
        if kind is None:
            result[field] = given
        elif bounds and isinstance(given, dict):
            result[field] = {k: value(kind, v) if k in ("gt", "gte", "lt", "lte") else v for k, v in given.items()}
        elif options and isinstance(given, dict) and "value" in given:
            result[field] = {**given, "value": value(kind, given["value"])}
        else:
            result[field] = value(kind, given)
    return result
