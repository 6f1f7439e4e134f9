"""The filter language of ``document:search``, ``document:count`` and ``realtime:subscribe``.

A subset of Koncorde, Kuzzle's own filters, compiled once into a predicate on ``(_id, _source)``:

- ``{"equals": {"field": value}}``: the field equals the value (``field`` may be a dotted path);
- ``{"in": {"field": [v1, v2]}}``: the field equals one of the values;
- ``{"range": {"field": {"gt"|"gte"|"lt"|"lte": bound}}}``: numbers, or strings with string bounds;
- ``{"exists": "field"}`` or ``{"exists": {"field": "field"}}``: the field is present (not null);
- ``{"ids": {"values": ["id1", "id2"]}}``: the document id is one of these;
- ``{"and": [f1, f2]}``, ``{"or": [f1, f2]}``, ``{"not": f}``; ``{}`` matches everything.

No Django here: the same predicates filter stored documents and realtime notifications.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kuzzle_events import errors

__all__ = ["Predicate", "compile_filter", "field_value", "sort_documents", "MISSING"]

Predicate = Callable[[str, Any], bool]
MISSING: Any = object()
_RANGE_OPERATORS = frozenset({"gt", "gte", "lt", "lte"})


def field_value(source: Any, path: str) -> Any:
    """The value at a dotted ``path`` of ``source``, or :data:`MISSING`."""
    value = source
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def _invalid(where: str, expected: str) -> errors.KuzzleError:
    return errors.get("api.assert.invalid_argument", where, expected)


def _single(keyword: str, clause: Any, where: str) -> tuple[str, Any]:
    if not isinstance(clause, dict) or len(clause) != 1:
        raise _invalid(f"{where}.{keyword}", "an object with exactly one field")
    ((field, value),) = clause.items()
    if not isinstance(field, str) or not field:
        raise _invalid(f"{where}.{keyword}", "a field name")
    return field, value


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _equal(left: Any, right: Any) -> bool:
    # JSON semantics: true is not 1, 1 is 1.0.
    return left == right and isinstance(left, bool) == isinstance(right, bool)


def compile_filter(filters: Any, where: str = "body.query") -> Predicate:
    """A predicate for ``filters``; ``api.assert.*`` errors (400) for anything malformed."""
    if not isinstance(filters, dict):
        raise errors.get("api.assert.invalid_type", where, "object")
    if not filters:
        return lambda _id, source: True
    if len(filters) != 1:
        raise _invalid(where, "exactly one keyword per object (combine them with and/or)")
    ((keyword, clause),) = filters.items()
    builder = _KEYWORDS.get(keyword)
    if builder is None:
        raise errors.get("api.assert.koncorde_unknown_keyword", keyword)
    return builder(clause, where)


def _equals(clause: Any, where: str) -> Predicate:
    field, expected = _single("equals", clause, where)
    if not _scalar(expected):
        raise _invalid(f"{where}.equals.{field}", "a string, number, boolean or null")
    return lambda _id, source: _equal(field_value(source, field), expected)


def _in(clause: Any, where: str) -> Predicate:
    field, values = _single("in", clause, where)
    if not isinstance(values, list) or not all(_scalar(v) for v in values):
        raise _invalid(f"{where}.in.{field}", "an array of strings, numbers, booleans or nulls")

    def match(_id: str, source: Any) -> bool:
        value = field_value(source, field)
        return any(_equal(value, v) for v in values)

    return match


def _range(clause: Any, where: str) -> Predicate:
    field, bounds = _single("range", clause, where)
    if not isinstance(bounds, dict) or not bounds or set(bounds) - _RANGE_OPERATORS:
        raise _invalid(f"{where}.range.{field}", "an object of gt, gte, lt, lte bounds")
    numeric = all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds.values())
    textual = all(isinstance(b, str) for b in bounds.values())
    if not (numeric or textual):
        raise _invalid(f"{where}.range.{field}", "bounds that are all numbers or all strings")
    kind: tuple[type, ...] = (int, float) if numeric else (str,)
    checks = [(op, bound) for op, bound in bounds.items()]

    def match(_id: str, source: Any) -> bool:
        value = field_value(source, field)
        if not isinstance(value, kind) or isinstance(value, bool):
            return False
        for op, bound in checks:
            if (
                (op == "gt" and not value > bound)
                or (op == "gte" and not value >= bound)
                or (op == "lt" and not value < bound)
                or (op == "lte" and not value <= bound)
            ):
                return False
        return True

    return match


def _exists(clause: Any, where: str) -> Predicate:
    field = clause.get("field") if isinstance(clause, dict) and set(clause) == {"field"} else clause
    if not isinstance(field, str) or not field:
        raise _invalid(f"{where}.exists", 'a field name, or {"field": <name>}')
    return lambda _id, source: field_value(source, field) not in (MISSING, None)


def _ids(clause: Any, where: str) -> Predicate:
    values = clause.get("values") if isinstance(clause, dict) and set(clause) == {"values"} else None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _invalid(f"{where}.ids", '{"values": [<document ids>]}')
    wanted = frozenset(values)
    return lambda _id, source: _id in wanted


def _list_of(keyword: str, clause: Any, where: str) -> list[Predicate]:
    if not isinstance(clause, list) or not clause:
        raise _invalid(f"{where}.{keyword}", "a non-empty array of filters")
    return [compile_filter(f, f"{where}.{keyword}[{i}]") for i, f in enumerate(clause)]


def _and(clause: Any, where: str) -> Predicate:
    parts = _list_of("and", clause, where)
    return lambda _id, source: all(p(_id, source) for p in parts)


def _or(clause: Any, where: str) -> Predicate:
    parts = _list_of("or", clause, where)
    return lambda _id, source: any(p(_id, source) for p in parts)


def _not(clause: Any, where: str) -> Predicate:
    inner = compile_filter(clause, f"{where}.not")
    return lambda _id, source: not inner(_id, source)


_KEYWORDS: dict[str, Callable[[Any, str], Predicate]] = {
    "equals": _equals,
    "in": _in,
    "range": _range,
    "exists": _exists,
    "ids": _ids,
    "and": _and,
    "or": _or,
    "not": _not,
}


def _sort_spec(sort: Any) -> list[tuple[str, bool]]:
    """``["a", {"b": "desc"}, {"c": {"order": "asc"}}]`` -> ``[("a", False), ("b", True), ("c", False)]``."""
    if sort is None:
        return []
    if isinstance(sort, (str, dict)):
        sort = [sort]
    if not isinstance(sort, list):
        raise errors.get("api.assert.invalid_type", "body.sort", "array")
    spec = []
    for item in sort:
        if isinstance(item, str):
            spec.append((item, False))
            continue
        if isinstance(item, dict) and len(item) == 1:
            ((field, order),) = item.items()
            if isinstance(order, dict):
                order = order.get("order", "asc")
            if order in ("asc", "desc"):
                spec.append((field, order == "desc"))
                continue
        raise _invalid("body.sort", 'fields, or {"<field>": "asc"|"desc"}')
    return spec


def sort_documents(documents: Sequence[dict[str, Any]], sort: Any) -> list[dict[str, Any]]:
    """``[{_id, _source}]`` sorted by ``sort`` (missing values last, in either order); stable."""
    ordered = list(documents)
    for field, descending in reversed(_sort_spec(sort)):
        if field == "_id":
            ordered.sort(key=lambda d: d["_id"], reverse=descending)
            continue
        present = [d for d in ordered if _sortable(field_value(d["_source"], field))]
        absent = [d for d in ordered if not _sortable(field_value(d["_source"], field))]
        present.sort(key=lambda d: _sort_key(field_value(d["_source"], field)), reverse=descending)
        ordered = present + absent
    return ordered


def _sortable(value: Any) -> bool:
    return value is not MISSING and value is not None and isinstance(value, (str, int, float, bool))


def _sort_key(value: Any) -> tuple[int, Any]:
    # Numbers before strings, so that a mixed field still sorts.
    return (1, value) if isinstance(value, str) else (0, float(value))
