"""Document writes in the database (kuzzle_events.documents.writes, storage): each document atomic,
independent of the others; versions; metadata as given; merges as Elasticsearch's."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import IntegrityError

from kuzzle_events.documents import collections, storage, writes
from kuzzle_events.models import Document

INFO = {"author": "ada", "createdAt": 1, "updater": None, "updatedAt": None}


@pytest.fixture
def books() -> None:
    collections.create_index("library")
    collections.create_collection("library", "books")


def run(*operations: dict[str, Any]) -> list[dict[str, Any]]:
    return writes.apply("library", "books", list(operations))


def contents() -> dict[str, Any]:
    return {d.key: d.source for d in Document.objects.all()}


@pytest.mark.django_db
def test_a_failing_document_leaves_the_others_written(books: None) -> None:
    outcomes = run(
        {"kind": "create", "_id": "a", "body": {"n": 1}, "info": INFO},
        {"kind": "create", "_id": "a", "body": {"n": 2}, "info": INFO},
        {"kind": "replace", "_id": "missing", "body": {}, "info": INFO},
        {"kind": "create", "_id": "b", "body": {"bad": float("nan")}, "info": INFO},
        {"kind": "create", "_id": "c", "body": {"n": 3}, "info": INFO},
    )
    assert [o.get("error") and o["error"].id for o in outcomes] == [
        None,
        "services.storage.document_already_exists",
        "services.storage.not_found",
        "api.assert.invalid_argument",
        None,
    ]
    assert contents() == {"a": {"n": 1}, "c": {"n": 3}}


@pytest.mark.django_db
def test_a_database_error_on_one_document_rolls_back_that_document_only(books: None) -> None:
    run({"kind": "create", "_id": "a", "body": {"n": 1}, "info": INFO})
    real_save = Document.save

    def save(row: Document, *args: Any, **kwargs: Any) -> None:
        real_save(row, *args, **kwargs)
        if row.key == "a":
            raise IntegrityError("duplicate key value violates unique constraint")

    with mock.patch.object(Document, "save", save):
        outcomes = run(
            {"kind": "update", "_id": "a", "body": {"m": 1}, "info": {}},
            {"kind": "create", "_id": "b", "body": {}, "info": INFO},
        )
    assert outcomes[0]["error"].id == "services.storage.document_already_exists"
    assert "error" not in outcomes[1]
    assert contents() == {"a": {"n": 1}, "b": {}}  # the update of "a" was rolled back


@pytest.mark.django_db
def test_versions_metadata_and_merges(books: None) -> None:
    (created,) = run({"kind": "create", "_id": "a", "body": {"o": {"x": 1, "y": 2}, "l": [1]}, "info": INFO})
    assert (created["_version"], created["result"], created["status"]) == (1, "created", 201)
    (updated,) = run({"kind": "update", "_id": "a", "body": {"o": {"y": 3}, "l": [2]}, "info": {"updater": "bob"}})
    assert updated["_source"]["o"] == {"x": 1, "y": 3} and updated["_source"]["l"] == [2]
    assert updated["_source"]["_kuzzle_info"] == {**INFO, "updater": "bob"} and updated["_version"] == 2
    assert updated["_previous"] == {"o": {"x": 1, "y": 2}, "l": [1]}
    (bare,) = run({"kind": "createOrReplace", "_id": "a", "body": {"k": 1}, "info": None})
    assert bare["_source"] == {"k": 1} and bare["_version"] == 3 and bare["result"] == "updated"
    (raw,) = run({"kind": "update", "_id": "a", "body": {"j": 1}, "info": None})
    assert "_kuzzle_info" not in raw["_source"]
    (fields,) = run({"kind": "deleteFields", "_id": "a", "fields": ["k", "no.such"], "info": {"updater": "eve"}})
    assert fields["_source"] == {
        "j": 1,
        "_kuzzle_info": {"author": None, "createdAt": None, "updater": "eve", "updatedAt": None},
    }
    (upserted,) = run(
        {
            "kind": "upsert",
            "_id": "u",
            "body": {"c": 1},
            "default": {"c": 0, "d": 1},
            "info": {"updater": "x"},
            "default_info": {"author": "y"},
        }
    )
    assert upserted["created"] and upserted["_source"]["c"] == 1 and upserted["_source"]["d"] == 1
    assert upserted["_source"]["_kuzzle_info"]["author"] == "y"
    (deleted,) = run({"kind": "delete", "_id": "u"})
    assert (deleted["result"], deleted["_version"], deleted["_source"]["d"]) == ("deleted", 2, 1)
    assert storage.get("library", "books", ["a", "u"]) == {
        "a": {"_id": "a", "_source": fields["_source"], "_version": 5}
    }


@pytest.mark.django_db
def test_by_query_writes(books: None) -> None:
    run(*({"kind": "create", "_id": f"d{n}", "body": {"n": n}, "info": INFO} for n in range(3)))
    outcomes = writes.update_matching("library", "books", {"range": {"n": {"gte": 1}}}, "elasticsearch", {"s": 1}, None)
    assert [o["_id"] for o in outcomes] == ["d1", "d2"]
    deleted = writes.delete_matching("library", "books", {"term": {"s": 1}}, "elasticsearch", fetch=False)
    assert deleted == [{"_id": "d1"}, {"_id": "d2"}] and contents() == {"d0": {"n": 0}}


def test_merge_and_remove_fields() -> None:
    assert writes.merge({"a": {"b": 1, "c": 2}, "d": 1}, {"a": {"b": 3}, "d": {"e": 1}}) == {
        "a": {"b": 3, "c": 2},
        "d": {"e": 1},
    }
    source = {"a": {"b": 1, "c": 2}, "d": 1}
    assert writes.remove_fields(source, ["a.b", "d", "x.y"]) == {"a": {"c": 2}}
    assert source == {"a": {"b": 1, "c": 2}, "d": 1}
