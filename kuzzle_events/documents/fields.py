"""A document's field in SQL: its JSON value in ``source`` (jsonb on PostgreSQL, JSON1 on SQLite),
or one of the columns that hold ``_id`` and ``_kuzzle_info``.

Every condition built here is two-valued (true or false, never SQL NULL), so that negating it
(``bool.must_not``, Koncorde's ``not``) keeps the documents where the field is missing. Values are
always query parameters.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import BooleanField, F, Func, Q, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform, compile_json_path
from django.db.models.functions import Cast, Coalesce
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, In, IsNull, LessThan, LessThanOrEqual

from kuzzle_events.documents.field_indexes import JsonExtract, expression, json_type

__all__ = ["COLUMNS", "Field", "Unindexed", "field", "NONE", "comparison"]

# Metadata live in columns of their own; Kuzzle's names for them.
COLUMNS: dict[str, tuple[str, type]] = {
    "_id": ("key", str),
    "_kuzzle_info.author": ("author", str),
    "_kuzzle_info.createdAt": ("created_at", int),
    "_kuzzle_info.updater": ("updater", str),
    "_kuzzle_info.updatedAt": ("updated_at", int),
}
_NULLABLE = {"author", "updater", "updated_at"}
# Matches no document (Django turns an empty IN into a false condition).
NONE = Q(pk__in=[])
_LOOKUPS = {"gt": GreaterThan, "gte": GreaterThanOrEqual, "lt": LessThan, "lte": LessThanOrEqual}


def comparison(op: str, lhs: Any, rhs: Any) -> Q:
    """``lhs <op> rhs`` (``gt``, ``gte``, ``lt``, ``lte``, ``eq``) as a condition."""
    lookup = Exact if op == "eq" else _LOOKUPS[op]
    return Q(lookup(lhs, rhs))


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _JsonEachHas(Func):
    """SQLite: the JSON value at ``path`` is one of ``values``, or an array holding one
    (JSON1's json_each). ``values``: ``[(json types, [values of these types])]``."""

    output_field = BooleanField()

    def __init__(self, path: str, values: list[tuple[tuple[str, ...], list[Any]]]) -> None:
        super().__init__(F("source"), Value(path))
        self.values = values

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = super().as_sql(compiler, connection, template="json_each(%(expressions)s)", **extra)
        tests, extra_params = [], []
        for types, values in self.values:
            tests.append(
                f"(item.type IN ({', '.join(['%s'] * len(types))}) AND item.value IN ({', '.join(['%s'] * len(values))}))"
            )
            extra_params += [*types, *values]
        where = f"EXISTS (SELECT 1 FROM {sql} AS item WHERE {' OR '.join(tests)})"
        return where, (*params, *extra_params)


class Field:
    """A JSON field of the documents' source, for one database vendor."""

    def __init__(self, path: list[str], postgres: bool) -> None:
        self.path, self.postgres = path, postgres
        self.NUMBER: tuple[str, ...]
        self.STRING: tuple[str, ...]
        self.BOOLEAN: tuple[str, ...]
        if postgres:
            self.NUMBER, self.STRING, self.BOOLEAN = ("number",), ("string",), ("boolean",)
        else:
            self.NUMBER, self.STRING, self.BOOLEAN = ("integer", "real"), ("text",), ("true", "false")

    def _key(self, text: bool = False) -> Any:
        transform = KeyTextTransform if text else KeyTransform
        expression: Any = "source"
        for i, part in enumerate(self.path):
            last = i == len(self.path) - 1
            expression = (transform if last else KeyTransform)(part, expression)
        return expression

    def _json_path(self) -> str:
        return str(compile_json_path(self.path))

    def value(self) -> Any:
        """The value, comparable and sortable: jsonb on PostgreSQL, the SQL value on SQLite; JSON
        null and a missing field are both SQL NULL."""
        if self.postgres:
            return Func(self._key(), Cast(Value("null"), models.JSONField()), function="NULLIF",
                        output_field=models.JSONField())  # fmt: skip
        return JsonExtract(self._json_path())

    def text(self) -> Any:
        """The value as text (a string's own text; JSON text for arrays and objects)."""
        if self.postgres:
            return self._key(text=True)
        return Func(F("source"), Value(self._json_path()), function="JSON_EXTRACT", output_field=models.TextField())

    def json_type(self) -> Any:
        """The JSON type's name on this database, ``""`` when the field is missing."""
        if self.postgres:
            typed = Func(self._key(), function="jsonb_typeof", output_field=models.TextField())
        else:
            typed = Func(F("source"), Value(self._json_path()), function="JSON_TYPE", output_field=models.TextField())
        return Coalesce(typed, Value(""), output_field=models.TextField())

    def param(self, value: Any) -> Any:
        """A value to compare :meth:`value` with."""
        if self.postgres:
            return Value(value, output_field=models.JSONField())
        return Value(value)

    def of_type(self, types: tuple[str, ...]) -> Q:
        return Q(In(self.json_type(), list(types)))

    def types_of(self, value: Any) -> tuple[str, ...]:
        if isinstance(value, bool):
            return self.BOOLEAN if self.postgres else ("true" if value else "false",)
        return self.NUMBER if _number(value) else self.STRING

    # Conditions ---------------------------------------------------------------------------------

    def equals(self, value: Any) -> Q:
        """The field is ``value``, or an array holding it (Elasticsearch's ``term``)."""
        return self.equals_any([value])

    def equals_any(self, values: list[Any]) -> Q:
        """The field is one of ``values``, or an array holding one (``terms``)."""
        if not values:
            return NONE
        if self.postgres:
            # Containment: what the GIN index (jsonb_path_ops) answers.
            condition = Q()
            for value in values:
                nested: Any = value
                listed: Any = [value]
                for part in reversed(self.path):
                    nested, listed = {part: nested}, {part: listed}
                condition = condition | Q(source__contains=nested) | Q(source__contains=listed)
            return condition
        # One json_each for all of them (SQLite limits the depth of an expression).
        groups: dict[tuple[str, ...], list[Any]] = {}
        for value in values:
            groups.setdefault(self.types_of(value), []).append(value)
        return Q(_JsonEachHas(self._json_path(), list(groups.items())))

    def compare(self, op: str, bound: Any) -> Q:
        """A range bound: numbers compare with numbers, strings with strings. The value compared is
        written as the field indexes write it (:mod:`.field_indexes`), so that they answer it."""
        return comparison(op, expression(self.path, self.postgres), self.param(bound))

    def range(self, bounds: dict[str, Any]) -> Q:
        types = self.types_of(next(iter(bounds.values())))
        # The type twice: coalesced, so that the condition is false (never NULL) where the field is
        # missing; bare, as the field's index holds it, so that the index bounds the scan.
        condition = self.of_type(types) & Q(In(json_type(self.path, self.postgres), list(types)))
        for op, bound in bounds.items():
            condition &= self.compare(op, bound)
        return condition

    def exists(self) -> Q:
        return ~Q(In(self.json_type(), ["", "null"]))

    def text_condition(self, lookup: type, pattern: Any, *, strings_only: bool) -> Q:
        guard = self.of_type(self.STRING) if strings_only else self.exists()
        return guard & Q(lookup(self.text(), Value(pattern)))


class Column(Field):
    """``_id`` or a ``_kuzzle_info`` field: a column of its own."""

    def __init__(self, name: str, kind: type, postgres: bool) -> None:
        super().__init__([name], postgres)
        self.name, self.kind, self.nullable = name, kind, name in _NULLABLE

    def fits(self, value: Any) -> bool:
        """Whether ``value`` has this column's type."""
        return _number(value) if self.kind is int else isinstance(value, str)

    def _present(self) -> Q:
        return Q(IsNull(F(self.name), False)) if self.nullable else ~NONE

    def value(self) -> Any:
        return F(self.name)

    def text(self) -> Any:
        return F(self.name) if self.kind is str else Cast(F(self.name), models.TextField())

    def param(self, value: Any) -> Any:
        return Value(value)

    def compare(self, op: str, bound: Any) -> Q:
        return comparison(op, self.value(), self.param(bound))

    def equals(self, value: Any) -> Q:
        return comparison("eq", F(self.name), Value(value)) if self.fits(value) else NONE

    def equals_any(self, values: list[Any]) -> Q:
        fitting = [v for v in values if self.fits(v)]
        return Q(**{f"{self.name}__in": fitting}) if fitting else NONE

    def range(self, bounds: dict[str, Any]) -> Q:
        if not all(self.fits(b) for b in bounds.values()):
            return NONE
        condition = self._present()
        for op, bound in bounds.items():
            condition &= self.compare(op, bound)
        return condition

    def exists(self) -> Q:
        return self._present()

    def text_condition(self, lookup: type, pattern: Any, *, strings_only: bool) -> Q:
        if strings_only and self.kind is not str:
            return NONE
        return self._present() & Q(lookup(self.text(), Value(pattern)))


class Unindexed(Field):
    """A field the collection's mapping keeps out of the index (undeclared under ``dynamic: false``):
    no condition on it matches, as in Elasticsearch (so a negation of one matches every document)."""

    def equals(self, value: Any) -> Q:
        return NONE

    def equals_any(self, values: list[Any]) -> Q:
        return NONE

    def range(self, bounds: dict[str, Any]) -> Q:
        return NONE

    def exists(self) -> Q:
        return NONE

    def text_condition(self, lookup: type, pattern: Any, *, strings_only: bool) -> Q:
        return NONE


def field(name: str, postgres: bool) -> Field:
    """The field named ``name`` (a dotted path, ``_id`` or ``_kuzzle_info.*``)."""
    if name in COLUMNS:
        column, kind = COLUMNS[name]
        return Column(column, kind, postgres)
    return Field(name.split("."), postgres)
