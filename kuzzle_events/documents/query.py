"""Elasticsearch's query DSL (Kuzzle's default search language) as a Django ``Q`` on documents.

Supported: ``match_all``, ``match_none``, ``match`` (words, lower-cased, any of them by default,
``operator: "and"`` for all), ``match_phrase``, ``term``, ``terms``, ``range`` (``gt``, ``gte``,
``lt``, ``lte``), ``exists``, ``ids``, ``prefix``, ``wildcard``, ``constant_score`` and ``bool``
(``must``, ``filter``, ``should`` with ``minimum_should_match``, ``must_not``). Fields are dotted
paths in the document's content, ``_id``, or ``_kuzzle_info.author|createdAt|updater|updatedAt``.

An unknown keyword is a 400 ``services.storage.unknown_query_keyword``, a keyword of Elasticsearch
that is not supported here a 400 ``services.storage.invalid_query_keyword`` naming it, a malformed
clause a 400 ``api.assert.invalid_argument``: never a silent match-all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import reduce
from typing import Any

from django.db.models import Case, IntegerField, Q, Value, When
from django.db.models.lookups import GreaterThanOrEqual, IRegex, Regex

from kuzzle_events import errors
from kuzzle_events.documents import coercion
from kuzzle_events.documents.fields import COLUMNS, NONE, Field, Unindexed, field
from kuzzle_events.documents.mappings import is_indexed

__all__ = ["Translator", "ES_KEYWORDS"]

# Keywords of Elasticsearch's query DSL that are not translated: refused, naming the keyword.
ES_KEYWORDS = frozenset(
    "bool boosting combined_fields constant_score dis_max distance_feature exists function_score fuzzy "
    "geo_bounding_box geo_distance geo_polygon geo_shape has_child has_parent ids intervals match match_all "
    "match_bool_prefix match_none match_phrase match_phrase_prefix more_like_this multi_match nested "
    "parent_id percolate pinned prefix query_string range rank_feature regexp script script_score shape "
    "simple_query_string span_containing span_first span_multi span_near span_not span_or span_term "
    "span_within term terms terms_set type wildcard wrapper".split()
)
# Options that change scores only (every hit scores the same here): accepted, without effect.
_SCORING = frozenset({"boost", "_name"})
_WORD = re.compile(r"\w+")


def _invalid(where: str, expected: str) -> errors.KuzzleError:
    return errors.get("api.assert.invalid_argument", where, expected)


def _unsupported(name: str) -> errors.KuzzleError:
    return errors.get("services.storage.invalid_query_keyword", name)


def _scalar(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool)) and not (isinstance(value, float) and not math.isfinite(value))


def both(parts: list[Q | None]) -> Q | None:
    """All of ``parts`` (``None`` matches every document)."""
    kept = [p for p in parts if p is not None]
    return reduce(lambda a, b: a & b, kept) if kept else None


def either(parts: list[Q | None]) -> Q | None:
    """Any of ``parts``; an empty list matches nothing."""
    kept = [p for p in parts if p is not None]
    if len(kept) < len(parts):
        return None
    return reduce(lambda a, b: a | b, kept) if kept else NONE


def negated(part: Q | None) -> Q:
    return NONE if part is None else ~part


def _regex_literal(text: str) -> str:
    # Escapes read the same by PostgreSQL's regular expressions and Python's (SQLite's REGEXP).
    return "".join(c if c.isalnum() or c == "_" else "\\" + c for c in text)


class Translator:
    """Translates search bodies for one database vendor (``connection.vendor``)."""

    def __init__(self, vendor: str, mappings: dict[str, Any] | None = None) -> None:
        self.postgres = vendor == "postgresql"
        # The collection's mapping decides which fields are indexed; None: every field is.
        self.mappings = mappings
        # Its field types decide how a query's values compare, as in Elasticsearch.
        self.kinds = coercion.types(mappings) if mappings else {}

    def _typed(self, name: str, values: list[Any]) -> list[Any]:
        """``values`` as the field's mapped type compares them: converted, with the other forms a
        document may hold that Elasticsearch indexes the same (``"42"`` and 42 on a keyword)."""
        kind = self.kinds.get(name)
        if kind is None:
            return values
        return list(dict.fromkeys(r for v in values for r in coercion.representations(kind, v)))

    def field(self, name: Any, where: str) -> Field:
        if not isinstance(name, str) or not name:
            raise _invalid(where, "a field name")
        if self.mappings and name not in COLUMNS and not is_indexed(self.mappings, name):
            return Unindexed(name.split("."), self.postgres)
        return field(name, self.postgres)

    def query(self, clause: Any, where: str = "body.query") -> Q | None:
        """The condition of ``clause``; ``None`` when it matches every document."""
        if not isinstance(clause, dict):
            raise errors.get("api.assert.invalid_type", where, "object")
        if not clause:
            return None
        if len(clause) != 1:
            raise _invalid(where, "exactly one query keyword per object (combine them with bool)")
        ((keyword, content),) = clause.items()
        builder = _CLAUSES.get(keyword)
        if builder is None:
            if keyword in ES_KEYWORDS:
                raise _unsupported(keyword)
            raise errors.get("services.storage.unknown_query_keyword", keyword)
        return builder(self, content, f"{where}.{keyword}")

    # Leaf clauses -------------------------------------------------------------------------------

    def _match_all(self, content: Any, where: str) -> Q | None:
        self._options(content, where, set())
        return None

    def _match_none(self, content: Any, where: str) -> Q | None:
        self._options(content, where, set())
        return NONE

    def _term(self, content: Any, where: str) -> Q | None:
        name, value = self._single(content, where, "value", {"case_insensitive"})
        if isinstance(value, dict):
            if value.get("case_insensitive"):
                raise _unsupported("term.case_insensitive")
            value = value["value"]
        if not _scalar(value):
            raise _invalid(f"{where}.{name}", "a string, number or boolean")
        return self.field(name, where).equals_any(self._typed(name, [value]))

    def _terms(self, content: Any, where: str) -> Q | None:
        fields = {k: v for k, v in content.items() if k not in _SCORING} if isinstance(content, dict) else None
        if not fields or len(fields) != 1:
            raise _invalid(where, "one field and its values")
        ((name, values),) = fields.items()
        if not isinstance(values, list) or not all(_scalar(v) for v in values):
            raise _invalid(f"{where}.{name}", "an array of strings, numbers or booleans")
        return self.field(name, where).equals_any(self._typed(name, values))

    def _range(self, content: Any, where: str) -> Q | None:
        name, bounds = self._single(content, where, None, set())
        if not isinstance(bounds, dict):
            raise _invalid(f"{where}.{name}", "an object of gt, gte, lt, lte bounds")
        for option in set(bounds) - {"gt", "gte", "lt", "lte"} - _SCORING:
            raise _unsupported(f"range.{option}")
        kind = self.kinds.get(name)
        bounds = {
            op: b if kind is None else coercion.value(kind, b)
            for op, b in bounds.items()
            if op not in _SCORING and b is not None
        }
        numbers = all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bounds.values())
        if not bounds or not (numbers or all(isinstance(b, str) for b in bounds.values())):
            raise _invalid(f"{where}.{name}", "bounds that are all numbers or all strings")
        return self.field(name, where).range(bounds)

    def _exists(self, content: Any, where: str) -> Q | None:
        self._options(content, where, {"field"})
        return self.field(content.get("field"), f"{where}.field").exists()

    def _ids(self, content: Any, where: str) -> Q | None:
        self._options(content, where, {"values"})
        values = content.get("values")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise _invalid(f"{where}.values", "an array of document ids")
        return Q(key__in=values)

    def _prefix(self, content: Any, where: str) -> Q | None:
        name, value, insensitive = self._text_value(content, where, ("value",))
        pattern = "^" + _regex_literal(value)
        return self.field(name, where).text_condition(IRegex if insensitive else Regex, pattern, strings_only=True)

    def _wildcard(self, content: Any, where: str) -> Q | None:
        name, value, insensitive = self._text_value(content, where, ("value", "wildcard"))
        parts = re.split(r"([*?])", value)
        body = "".join({"*": ".*", "?": "."}.get(p, _regex_literal(p)) for p in parts)
        lookup = IRegex if insensitive else Regex
        return self.field(name, where).text_condition(lookup, f"^{body}$", strings_only=True)

    def _match(self, content: Any, where: str, phrase: bool = False) -> Q | None:
        keys = {"query"} if phrase else {"query", "operator"}
        name, value = self._single(content, where, "query", keys - {"query"})
        options = value if isinstance(value, dict) else {"query": value}
        query, operator = options.get("query"), str(options.get("operator", "or")).lower()
        target = self.field(name, where)
        kind = self.kinds.get(name)
        if isinstance(query, (bool, int, float)) or (
            isinstance(query, str) and (coercion.is_text_kind(kind) or coercion.is_number_kind(kind))
        ):
            # A keyword is one term, not words; a number field takes the number the text is.
            return target.equals_any(self._typed(name, [query]))
        if not isinstance(query, str) or operator not in ("or", "and"):
            raise _invalid(f"{where}.{name}", 'a text, and an operator "or" or "and"')
        words = _WORD.findall(query.lower())
        if not words:
            return NONE  # Elasticsearch's zero_terms_query: none
        if phrase:
            patterns = [r"(^|\W)" + r"\W+".join(words) + r"(\W|$)"]
        else:
            patterns = [r"(^|\W)" + w + r"(\W|$)" for w in dict.fromkeys(words)]
        parts: list[Q | None] = [target.text_condition(IRegex, p, strings_only=False) for p in patterns]
        return both(parts) if operator == "and" else either(parts)

    def _match_phrase(self, content: Any, where: str) -> Q | None:
        return self._match(content, where, phrase=True)

    # Compound clauses ---------------------------------------------------------------------------

    def _constant_score(self, content: Any, where: str) -> Q | None:
        self._options(content, where, {"filter"})
        return self.query(content.get("filter"), f"{where}.filter")

    def _bool(self, content: Any, where: str) -> Q | None:
        self._options(content, where, {"must", "filter", "should", "must_not", "minimum_should_match"})

        def clauses(occur: str) -> list[Q | None]:
            found = content.get(occur, [])
            listed = found if isinstance(found, list) else [found]
            return [self.query(c, f"{where}.{occur}[{i}]") for i, c in enumerate(listed)]

        required = clauses("must") + clauses("filter")
        should = clauses("should")
        default = 1 if should and not required else 0
        needed = _minimum_should_match(content.get("minimum_should_match", default), len(should), where)
        excluded = [negated(c) for c in clauses("must_not")]
        return both([*required, *excluded, _at_least(needed, should)])

    # Shapes -------------------------------------------------------------------------------------

    def _options(self, content: Any, where: str, allowed: set[str]) -> None:
        if not isinstance(content, dict):
            raise errors.get("api.assert.invalid_type", where, "object")
        for option in set(content) - allowed - _SCORING:
            raise _unsupported(f"{where.rsplit('.', 1)[-1]}.{option}")

    def _single(self, content: Any, where: str, key: str | None, extra: set[str]) -> tuple[str, Any]:
        """``{"<field>": value}``, or ``{"<field>": {key: value, ...extra options}}``."""
        fields = {k: v for k, v in content.items() if k not in _SCORING} if isinstance(content, dict) else None
        if not fields or len(fields) != 1:
            raise _invalid(where, "an object with exactly one field")
        ((name, value),) = fields.items()
        if key is not None and isinstance(value, dict):
            if key not in value:
                raise errors.get("api.assert.missing_argument", f"{where}.{name}.{key}")
            for option in set(value) - {key} - extra - _SCORING:
                raise _unsupported(f"{where.rsplit('.', 1)[-1]}.{option}")
        return name, value

    def _text_value(self, content: Any, where: str, keys: tuple[str, ...]) -> tuple[str, str, bool]:
        fields = {k: v for k, v in content.items() if k not in _SCORING} if isinstance(content, dict) else None
        if not fields or len(fields) != 1:
            raise _invalid(where, "an object with exactly one field")
        ((name, value),) = fields.items()
        options = value if isinstance(value, dict) else {keys[0]: value}
        for option in set(options) - set(keys) - {"case_insensitive", "rewrite"} - _SCORING:
            raise _unsupported(f"{where.rsplit('.', 1)[-1]}.{option}")
        text = next((options[k] for k in keys if k in options), None)
        if not isinstance(text, str):
            raise _invalid(f"{where}.{name}", "a string")
        return name, text, bool(options.get("case_insensitive", False))


def _minimum_should_match(value: Any, total: int, where: str) -> int:
    """Elasticsearch's forms: ``2``, ``-1``, ``"75%"``, ``"-25%"``."""
    text = str(value).strip() if isinstance(value, (int, str)) and not isinstance(value, bool) else ""
    match = re.fullmatch(r"(-?)(\d+)(%?)", text)
    if match is None:
        raise _invalid(f"{where}.minimum_should_match", 'an integer or a percentage such as "75%"')
    negative, amount, percent = match.group(1) == "-", int(match.group(2)), match.group(3) == "%"
    count = total * amount // 100 if percent else amount
    return max(total - count if negative else count, 0)


def _at_least(needed: int, should: list[Q | None]) -> Q | None:
    if needed <= 0:
        return None
    if needed > len(should):
        return NONE
    if needed == 1:
        return either(should)
    if needed == len(should):
        return both(should)
    hits = [Value(1) if c is None else Case(When(c, then=Value(1)), default=Value(0)) for c in should]
    total = reduce(lambda a, b: a + b, hits)
    return Q(GreaterThanOrEqual(total, Value(needed, output_field=IntegerField())))


_CLAUSES: dict[str, Callable[[Translator, Any, str], Q | None]] = {
    "match_all": Translator._match_all,
    "match_none": Translator._match_none,
    "match": Translator._match,
    "match_phrase": Translator._match_phrase,
    "term": Translator._term,
    "terms": Translator._terms,
    "range": Translator._range,
    "exists": Translator._exists,
    "ids": Translator._ids,
    "prefix": Translator._prefix,
    "wildcard": Translator._wildcard,
    "constant_score": Translator._constant_score,
    "bool": Translator._bool,
}
