"""Checks of request values and the query language of ``security:searchUsers``. No Django here.

The query language is a small part of Elasticsearch's, on a user's ``_id`` and ``_source``
(``profileIds`` and content): ``match_all``, ``ids``, ``term``/``terms``/``match`` and ``bool``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from kuzzle_events import errors
from kuzzle_events.documents import coercion
from kuzzle_events.documents.filters import compile_filter

__all__ = ["API_KEYS_MAPPING", "Matcher", "matcher", "string_list", "user_query"]

Matcher = Callable[[dict[str, Any]], bool]
"""A test of a document ``{"_id", "_source"}``."""


# Kuzzle's mapping of its api-keys collection: searches of API keys compare values in these types.
API_KEYS_MAPPING: dict[str, Any] = {
    "dynamic": "false",
    "properties": {
        "userId": {"type": "keyword"},
        "hash": {"type": "keyword"},
        "description": {"type": "text"},
        "expiresAt": {"type": "long"},
        "ttl": {"type": "keyword"},
        "token": {"type": "keyword"},
    },
}


def matcher(query: Any, lang: str = "elasticsearch", mapping: dict[str, Any] | None = None) -> Matcher:
    """A test of ``{"_id", "_source"}`` documents for ``query``, in ``lang`` (Kuzzle's ``lang``:
    ``elasticsearch`` by default, or ``koncorde``).

    ``mapping``: the collection's; values of the fields it types are compared in their type, as
    Elasticsearch does (``"42"`` matches 42 in a ``long`` field, 42 matches ``"42"`` in a ``keyword``).
    """
    kinds = coercion.types(mapping) if mapping else {}
    query = query or {}
    if lang == "koncorde":
        predicate = compile_filter(coercion.koncorde(query, kinds))
        test: Matcher = lambda doc: predicate(doc["_id"], doc["_source"])  # noqa: E731
    elif lang == "elasticsearch":
        test = user_query(coercion.elasticsearch(query, kinds))
    else:
        raise errors.get("api.assert.invalid_argument", "lang", '"elasticsearch" or "koncorde"')
    if not kinds:
        return test
    return lambda doc: test({"_id": doc["_id"], "_source": coercion.document(doc["_source"], kinds)})


def string_list(value: Any, name: str) -> list[str]:
    """``value`` if it is a list of non-empty strings; ``api.assert.invalid_type`` naming ``name`` if not."""
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise errors.get("api.assert.invalid_type", name, "array of strings")
    return value


def user_query(query: Any) -> Callable[[dict[str, Any]], bool]:
    """A test of a user (``{"_id", "_source"}``) for ``body.query``."""
    if not isinstance(query, dict):
        raise errors.get("api.assert.invalid_type", "body.query", "object")
    if not query or "match_all" in query:
        return lambda user: True
    if len(query) != 1:
        raise errors.get("api.assert.invalid_argument", "body.query", "exactly one clause")
    ((keyword, clause),) = query.items()
    if keyword == "ids":
        values = string_list(clause.get("values") if isinstance(clause, dict) else None, "body.query.ids.values")
        return lambda user: user["_id"] in values
    if keyword in ("term", "terms", "match"):
        if not isinstance(clause, dict) or len(clause) != 1:
            raise errors.get("api.assert.invalid_argument", f"body.query.{keyword}", "one field")
        ((field, wanted),) = clause.items()
        if keyword == "match" and isinstance(wanted, dict):
            wanted = wanted.get("query")
        if keyword == "match" and isinstance(wanted, str):
            # Full text, as Elasticsearch's standard analyzer: any word of the query, any case.
            words = set(_words(wanted))
            return lambda user: any(
                words & set(_words(value)) for value in _field_values(user, field) if isinstance(value, str)
            )
        accepted = wanted if keyword == "terms" and isinstance(wanted, list) else [wanted]
        return lambda user: any(value in accepted for value in _field_values(user, field))
    if keyword == "bool" and isinstance(clause, dict):
        unknown = set(clause) - {"must", "filter", "should", "must_not"}
        if unknown:
            raise errors.get("api.assert.invalid_argument", "body.query.bool", "must, filter, should, must_not")
        parts = {k: [user_query(q) for q in (v if isinstance(v, list) else [v])] for k, v in clause.items()}
        return lambda user: (
            all(m(user) for m in parts.get("must", []) + parts.get("filter", []))
            and (not parts.get("should") or any(m(user) for m in parts["should"]))
            and not any(m(user) for m in parts.get("must_not", []))
        )
    raise errors.get("api.assert.invalid_argument", "body.query", "match_all, ids, term, terms, match or bool clauses")


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", text.lower())


def _field_values(user: dict[str, Any], field: str) -> list[Any]:
    value: Any = user["_id"] if field == "_id" else user["_source"]
    if field != "_id":
        for part in field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
    return value if isinstance(value, list) else [value]
