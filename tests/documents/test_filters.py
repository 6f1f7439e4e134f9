"""The filter language (kuzzle_events.documents.filters): matching, errors, sorting. No database."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events import errors
from kuzzle_events.documents.filters import compile_filter, sort_documents

BOOKS = [
    {"_id": "b1", "_source": {"title": "Dune", "year": 1965, "genre": "sf", "author": {"name": "Herbert"}}},
    {"_id": "b2", "_source": {"title": "Emma", "year": 1815, "genre": "novel", "price": None}},
    {"_id": "b3", "_source": {"title": "Hyperion", "year": 1989, "genre": "sf", "price": 9.5}},
    {"_id": "b4", "_source": {"title": "Ulysses", "year": 1922, "genre": "novel", "price": 12, "flag": True}},
]


def ids(filters: Any) -> list[str]:
    match = compile_filter(filters)
    return [b["_id"] for b in BOOKS if match(b["_id"], b["_source"])]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, ["b1", "b2", "b3", "b4"]),
        ({"equals": {"genre": "sf"}}, ["b1", "b3"]),
        ({"equals": {"author.name": "Herbert"}}, ["b1"]),
        ({"equals": {"flag": 1}}, []),  # true is not 1
        ({"equals": {"price": 12.0}}, ["b4"]),  # 12 is 12.0
        ({"in": {"title": ["Emma", "Dune", "Nope"]}}, ["b1", "b2"]),
        ({"range": {"year": {"gte": 1900, "lt": 1989}}}, ["b1", "b4"]),
        ({"range": {"year": {"gt": 1989}}}, []),
        ({"range": {"title": {"gte": "E", "lt": "I"}}}, ["b2", "b3"]),
        ({"exists": "price"}, ["b3", "b4"]),  # null does not exist
        ({"exists": {"field": "author.name"}}, ["b1"]),
        ({"ids": {"values": ["b4", "b2", "zz"]}}, ["b2", "b4"]),
        ({"and": [{"equals": {"genre": "sf"}}, {"range": {"year": {"gt": 1970}}}]}, ["b3"]),
        ({"or": [{"equals": {"title": "Emma"}}, {"exists": "flag"}]}, ["b2", "b4"]),
        ({"not": {"equals": {"genre": "sf"}}}, ["b2", "b4"]),
        ({"not": {"or": [{"ids": {"values": ["b1"]}}, {"equals": {"genre": "novel"}}]}}, ["b3"]),
    ],
)
def test_filters(filters: Any, expected: list[str]) -> None:
    assert ids(filters) == expected


@pytest.mark.parametrize(
    ("filters", "error_id"),
    [
        ([], "api.assert.invalid_type"),
        ({"match": {"title": "x"}}, "api.assert.koncorde_unknown_keyword"),
        ({"equals": {"a": 1}, "exists": "b"}, "api.assert.invalid_argument"),
        ({"equals": {"a": 1, "b": 2}}, "api.assert.invalid_argument"),
        ({"equals": {"a": [1]}}, "api.assert.invalid_argument"),
        ({"in": {"a": "x"}}, "api.assert.invalid_argument"),
        ({"range": {"a": {"gt": 1, "lt": "z"}}}, "api.assert.invalid_argument"),
        ({"range": {"a": {"near": 1}}}, "api.assert.invalid_argument"),
        ({"exists": 3}, "api.assert.invalid_argument"),
        ({"ids": ["a"]}, "api.assert.invalid_argument"),
        ({"and": []}, "api.assert.invalid_argument"),
        ({"or": [{"bogus": {}}]}, "api.assert.koncorde_unknown_keyword"),
        ({"not": "x"}, "api.assert.invalid_type"),
    ],
)
def test_invalid_filters_are_400(filters: Any, error_id: str) -> None:
    with pytest.raises(errors.KuzzleError) as caught:
        compile_filter(filters)
    assert caught.value.id == error_id and caught.value.status == 400


def test_sort() -> None:
    assert [d["_id"] for d in sort_documents(BOOKS, [{"year": "desc"}])] == ["b3", "b1", "b4", "b2"]
    assert [d["_id"] for d in sort_documents(BOOKS, ["genre", {"title": {"order": "desc"}}])] == ["b4", "b2", "b3", "b1"]
    # Documents without the field come last, whatever the order.
    assert [d["_id"] for d in sort_documents(BOOKS, {"price": "desc"})] == ["b4", "b3", "b1", "b2"]
    assert [d["_id"] for d in sort_documents(BOOKS, [{"_id": "desc"}])] == ["b4", "b3", "b2", "b1"]
    with pytest.raises(errors.KuzzleError):
        sort_documents(BOOKS, [{"year": "up"}])
