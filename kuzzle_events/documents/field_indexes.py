"""Database indexes on the fields a collection's mapping declares, so that a range or an ordered
comparison on such a field reads the matching rows, not the collection.

Elasticsearch indexes every field; a SQL table of JSON documents has, on PostgreSQL, the GIN index
of migration 0004, which answers equality (containment) but not ranges. For each field path a
mapping declares with a type that is compared in order (numbers, dates, keywords), one B-tree
index on ``(collection, <the field's JSON value>)`` is built, shared by every collection declaring
that path: on PostgreSQL the jsonb value (``source -> 'f'``, ``source #> '{a,b}'``), on SQLite
``json_extract(source, '$."f"')``. Rows without the field are left out (a partial index), so the
index costs nothing for the collections that do not have it.

The query side (:meth:`kuzzle_events.documents.fields.Field.range`) compares exactly
:func:`expression`, which is what lets the planner use these indexes.
"""

from __future__ import annotations

import hashlib
import logging
import re
from contextlib import nullcontext
from typing import Any

from django.db import DatabaseError, connections, models, transaction
from django.db.models import F, Func, Q
from django.db.models.fields.json import KeyTransform

from kuzzle_events.documents import coercion

__all__ = ["INDEXED_TYPES", "expression", "json_type", "index_for", "indexed_paths", "ensure"]

logger = logging.getLogger("kuzzle_events.documents")

# The mapping types whose values Elasticsearch compares in order (range, sort).
INDEXED_TYPES = frozenset(
    {"long", "integer", "short", "byte", "unsigned_long", "double", "float", "half_float", "scaled_float"}
    | {"date", "date_nanos", "keyword", "constant_keyword", "wildcard"}
)
_PREFIX = "kuzzle_doc_field_"
# Part of every index's name: a new definition gets new names, so existing databases build it.
_DEFINITION = "collection, type, value"


class _Raw(models.Field):
    """The output of SQLite's ``json_extract``: the SQL value as the driver gives it."""


class JsonExtract(Func):
    """SQLite's ``json_extract(source, '<path>')`` (or ``function``, such as ``JSON_TYPE``) with the
    path written in the SQL as a literal.

    Why not a parameter: SQLite uses an index on an expression only for the very same expression,
    and a bound parameter is not the same as the literal the index was created with. The path is a
    JSON path built by Django (``$."a"."b"``); single quotes are doubled, and SQLite's string
    literals have no other escape.
    """

    def __init__(self, json_path: str, function: str = "JSON_EXTRACT", output_field: Any = None) -> None:
        super().__init__(F("source"), output_field=output_field or _Raw())
        self.json_path, self.function = json_path, function

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        literal = "'" + self.json_path.replace("'", "''") + "'"
        return f"{self.function}({sql}, {literal})", params


def expression(path: list[str], postgres: bool) -> Any:
    """The JSON value of the field at ``path``, as both the index and the range conditions write it."""
    if postgres:
        value: Any = "source"
        for part in path:
            value = KeyTransform(part, value)
        return value
    from django.db.models.fields.json import compile_json_path

    return JsonExtract(str(compile_json_path(path)))


def json_type(path: list[str], postgres: bool) -> Any:
    """The JSON type's name of the field at ``path`` (SQL NULL when it is missing), as the index writes it."""
    if postgres:
        return Func(expression(path, True), function="jsonb_typeof", output_field=models.TextField())
    from django.db.models.fields.json import compile_json_path

    return JsonExtract(str(compile_json_path(path)), "JSON_TYPE", models.TextField())


def index_name(path: list[str]) -> str:
    """One name per field path (PostgreSQL's limit is 63 characters)."""
    digest = hashlib.sha1("\x00".join([_DEFINITION, *path]).encode()).hexdigest()[:24]
    return f"{_PREFIX}{digest}"


def index_for(path: list[str], postgres: bool) -> models.Index:
    """The index on the field at ``path``: collection, the value's JSON type, the value. A range
    compares values of one type (numbers or strings): with the type before the value, the index
    bounds it on both sides even when the query gives one bound."""
    value = expression(path, postgres)
    present = Q(models.lookups.IsNull(value, False))
    return models.Index(F("collection"), json_type(path, postgres), value, name=index_name(path), condition=present)


def indexed_paths(mappings: dict[str, Any]) -> list[list[str]]:
    """The field paths of ``mappings`` that get an index."""
    return [name.split(".") for name, kind in coercion.types(mappings).items() if kind in INDEXED_TYPES]


def ensure(mappings: dict[str, Any], using: str = "default") -> int:
    """Build the indexes that ``mappings`` calls for and that do not exist yet; how many were built.

    On PostgreSQL, outside a transaction, the index is built ``CONCURRENTLY``: writes to documents
    go on while it is built. An index that cannot be built is logged and skipped: searches stay
    correct without it, only slower.
    """
    connection = connections[using]
    postgres = connection.vendor == "postgresql"
    wanted = {index_name(path): path for path in indexed_paths(mappings)}
    if not wanted:
        return 0
    built = 0
    with connection.cursor() as cursor:
        existing = _existing(cursor, postgres, list(wanted))
        for name, path in wanted.items():
            if existing.get(name):
                continue
            concurrently = postgres and not connection.in_atomic_block
            # Inside a transaction, a savepoint: a failed build must not abort the caller's work.
            guard = transaction.atomic(using=using) if connection.in_atomic_block else nullcontext()
            try:
                with guard:
                    if name in existing:  # an invalid index, left by an interrupted concurrent build
                        cursor.execute(f"DROP INDEX {'CONCURRENTLY ' if concurrently else ''}IF EXISTS {name}")
                    cursor.execute(_create_sql(connection, path, postgres, concurrently))
            except DatabaseError as failure:
                logger.warning("index on the field %r not built: %s", ".".join(path), failure)
                continue
            built += 1
    return built


def _create_sql(connection: Any, path: list[str], postgres: bool, concurrently: bool) -> str:
    from kuzzle_events.models import Document

    # The editor only renders the statement (it is not entered: SQLite's refuses to be inside a
    # transaction), so that the expression is written exactly as Django writes it in queries.
    editor = connection.SchemaEditorClass(connection, atomic=False)
    options = {"concurrently": True} if concurrently else {}  # only PostgreSQL's editor takes it
    statement = str(index_for(path, postgres).create_sql(Document, editor, **options))
    return re.sub(r"^CREATE INDEX( CONCURRENTLY)?", r"\g<0> IF NOT EXISTS", statement)


def _existing(cursor: Any, postgres: bool, names: list[str]) -> dict[str, bool]:
    """Which of the index ``names`` exist, and whether each is valid (usable by the planner)."""
    marks = ", ".join(["%s"] * len(names))
    if postgres:
        cursor.execute(
            "SELECT c.relname, i.indisvalid FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid "
            f"WHERE c.relname IN ({marks})",
            names,
        )
    else:
        cursor.execute(f"SELECT name, 1 FROM sqlite_master WHERE type = 'index' AND name IN ({marks})", names)
    return {name: bool(valid) for name, valid in cursor.fetchall()}
