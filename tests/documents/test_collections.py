"""Collections' mappings, settings and validation specifications, as the document writes check them."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events import errors
from kuzzle_events.documents import collections, mappings, specifications

NESTED = {
    "dynamic": "false",
    "properties": {
        "name": {"type": "keyword"},
        "address": {"dynamic": "strict", "properties": {"city": {"type": "keyword"}}},
    },
}


def refused(call: Any, *args: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(errors.KuzzleError) as caught:
        call(*args, **kwargs)
    return caught.value.id, caught.value.message


@pytest.fixture
def books() -> None:
    collections.create_collection("library", "books", {"dynamic": "strict", "properties": {"title": {"type": "text"}}})


def test_a_strict_mapping_refuses_unknown_fields_and_dynamic_false_keeps_them(books: None) -> None:
    collections.check_mapping("library", "books", {"title": "Emma", "_kuzzle_info": {"author": "ada"}})
    assert refused(collections.check_mapping, "library", "books", {"title": "Emma", "year": 1815}) == (
        "services.storage.strict_mapping_rejection",
        'Cannot create document. Field "year" is not present in collection "library:books" strict mapping',
    )
    collections.update_collection("library", "books", {"dynamic": "false"})
    collections.check_mapping("library", "books", {"title": "Emma", "year": 1815})


def test_strictness_is_per_level() -> None:
    assert mappings.unknown_field(NESTED, {"name": "a", "extra": 1, "address": {"city": "x"}}) is None
    assert mappings.unknown_field(NESTED, {"address": {"city": "x", "zip": "1"}}) == "address.zip"
    # A strict root does not make a non-strict child strict.
    lax_child = {"dynamic": "strict", "properties": {"meta": {"dynamic": "true", "properties": {}}}}
    assert mappings.unknown_field(lax_child, {"meta": {"anything": 1}}) is None
    assert mappings.unknown_field(lax_child, {"other": 1}) == "other"


def test_undeclared_fields_under_dynamic_false_are_not_indexed() -> None:
    assert mappings.is_indexed(NESTED, "name") and mappings.is_indexed(NESTED, "address.city")
    assert not mappings.is_indexed(NESTED, "age")
    # Under a strict or true level, an undeclared field is searchable (or refused on write).
    assert mappings.is_indexed(NESTED, "address.zip")
    assert mappings.is_indexed({}, "anything.at.all")
    # Declared, but kept out of the index.
    hidden = {"properties": {"raw": {"type": "object", "enabled": False}, "code": {"type": "keyword", "index": False}}}
    assert not mappings.is_indexed(hidden, "raw.x") and not mappings.is_indexed(hidden, "code")


def test_a_write_blocked_collection_refuses_documents(books: None) -> None:
    collections.update_collection("library", "books", settings={"index": {"blocks": {"write": True}}})
    assert refused(collections.check_mapping, "library", "books", {"title": "x"})[0] == (
        "services.storage.unexpected_bad_request"
    )
    collections.update_settings("library", "books", {"index": {"blocks": {"write": False}}})
    collections.check_mapping("library", "books", {"title": "x"})


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"dynamik": "strict"}, 'Invalid mapping property "mappings.dynamik". Did you mean "dynamic"?'),
        (
            {"properties": {"a": {"properties": {}, "tpye": "x"}}},
            'Invalid mapping property "mappings.properties.a.tpye".',
        ),
        (
            {"dynamic": "maybe"},
            'Invalid mapping property "mappings.dynamic". Incorrect dynamic property value (maybe).',
        ),
        ({"properties": []}, 'Invalid mapping property "mappings.properties". The properties must be an object.'),
    ],
)
def test_bad_mappings(mapping: dict[str, Any], message: str) -> None:
    error_id, text = refused(mappings.check, mapping)
    assert error_id == "services.storage.invalid_mapping"
    assert text.startswith(message.rstrip("."))


def test_dynamic_booleans_become_strings_and_field_parameters_are_free() -> None:
    checked = mappings.check({"dynamic": False, "properties": {"a": {"type": "text", "analyzer": "french"}}})
    assert checked == {"dynamic": "false", "properties": {"a": {"type": "text", "analyzer": "french"}}}


def test_index_deletion_in_creation_order_and_collection_listing_by_name() -> None:
    for index in ("b", "a", "c"):
        collections.create_index(index)
    collections.create_collection("a", "zeta")
    collections.create_collection("a", "alpha")
    assert collections.list_collections("a") == ["alpha", "zeta"]
    assert collections.delete_indexes(["c", "b", "x"]) == ["b", "c"]
    assert collections.list_indexes() == ["a"]


SPEC = {
    "strict": True,
    "fields": {
        "title": {"type": "string", "mandatory": True},
        "year": {"type": "integer", "defaultValue": 2000, "typeOptions": {"range": {"max": 3000}}},
        "tags": {"type": "enum", "multivalued": {"value": True, "maxCount": 2}, "typeOptions": {"values": ["a", "b"]}},
        "author": {"type": "object", "typeOptions": {"strict": True}},
        "author/email": {"type": "email"},
        "author/site": {"type": "url", "defaultValue": "http://example.com"},
    },
    "validators": [{"range": {"year": {"gte": 1800}}}],
}


def test_documents_are_checked_against_the_specifications(books: None) -> None:
    collections.update_collection("library", "books", {"dynamic": "true"})
    collections.update_specifications("library", "books", SPEC)
    good = {"title": "Emma", "year": 1815, "tags": ["a"], "author": {"email": "j@a.uk"}}
    assert collections.validate_document("library", "books", good) == []
    problems = collections.validate_document(
        "library", "books", {"year": 1700.5, "tags": ["a", "b", "c"], "author": {"email": "nope", "x": 1}, "more": 1}
    )
    # As in Kuzzle, a strict root stops the fields' checks, not the validators'.
    assert problems == [
        (None, 'The document validation is strict. Cannot add unspecified sub-field "more"'),
        (None, "The document does not match validation filters."),
    ]
    problems = collections.validate_document(
        "library", "books", {"year": 1700.5, "tags": ["c"], "author": {"email": "nope"}}
    )
    # Fields are checked by name, whatever the database kept of their order.
    assert problems == [
        (["author", "email"], "The string must be a valid email address."),
        (["tags"], 'The field only accepts following values: "a, b".'),
        (["title"], "The field is mandatory."),
        (["year"], "The field must be an integer."),
        (None, "The document does not match validation filters."),
    ]
    assert specifications.error_messages([problems[0], problems[4]]) == {
        "fieldScope": {
            "children": {"author": {"children": {"email": {"messages": ["The string must be a valid email address."]}}}}
        },
        "documentScope": ["The document does not match validation filters."],
    }
    failure = specifications.failure(problems[2:])
    assert (failure.id, failure.message) == (
        "validation.check.failed_field",
        'Validation failed. Field "title": The field is mandatory.',
    )
    nested = collections.validate_document("library", "books", {"title": "t", "author": {"x": 1}})
    assert nested[0] == (["author"], 'The field is set to "strict"; cannot add unspecified sub-field "x".')


def test_default_values_are_filled_in(books: None) -> None:
    collections.update_specifications("library", "books", SPEC)
    filled = collections.with_defaults("library", "books", {"title": "t", "author": {}})
    assert filled == {"title": "t", "year": 2000, "author": {"site": "http://example.com"}}
    # An update fills only what it sets to null.
    assert collections.with_defaults("library", "books", {"title": "u"}, update=True) == {"title": "u"}
    assert collections.with_defaults("library", "books", {"year": None}, update=True) == {"year": 2000}
    collections.create_collection("library", "free")
    assert collections.validate_document("library", "free", {"any": 1}) == []
    assert collections.with_defaults("library", "free", {"any": 1}) == {"any": 1}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"fields": {"a/b": {"type": "string"}}}, 'The parent field of the field "a.b" is not defined.'),
        (
            {"fields": {"a": {"type": "string"}, "a/b": {"type": "string"}}},
            'The field type "string" is not allowed to have children fields.',
        ),
        (
            {"fields": {"a": {"type": "string", "typeOptions": {"range": {}}}}},
            'The object "i.c.a" contains unexpected properties (allowed: length).',
        ),
        (
            {"fields": {"a": {"type": "numeric", "typeOptions": {"range": {"min": 5, "max": 1}}}}},
            'Property "range": invalid range (min > max).',
        ),
        (
            {"fields": {"a": {"type": "enum"}}},
            'The "enum" type requires a "values" property holding the list of the enum values.',
        ),
        (
            {"fields": {"a": {"type": "string", "multivalued": {"maxCount": 1}}}},
            'Missing property "value" in field "i.c.a.multivalued".',
        ),
        (
            {"fields": {"a": {"type": "string", "multivalued": {"value": True, "minCount": 3, "maxCount": 1}}}},
            'Property "i.c.a": invalid range (minCount > maxCount).',
        ),
        ({"strict": "yes"}, 'Wrong type for parameter "i.c.strict" (expected: boolean).'),
        (
            {"validators": [{"nope": {}}]},
            'Invalid filters validator: The keyword "nope" is not part of Koncorde filters DSL keywords.',
        ),
        ([], 'The object "i.c" contains unexpected properties (allowed: strict, fields, validators).'),
    ],
)
def test_specification_format(spec: Any, message: str) -> None:
    problems = collections.specification_errors("i", "c", spec)
    assert problems[0].startswith(message), problems


def test_specifications_need_the_collection_and_search_refuses_unknown_clauses(books: None) -> None:
    assert (
        refused(collections.update_specifications, "library", "films", {"fields": {}})[0]
        == "services.storage.unknown_collection"
    )
    assert refused(collections.get_specifications, "library", "books")[0] == "validation.assert.not_found"
    collections.update_specifications("library", "books", {"fields": {}})
    query = {"bool": {"must": [{"match": {"index": "library"}}], "must_not": [{"ids": {"values": ["x#y"]}}]}}
    assert collections.search_specifications(query, 0, 10)["total"] == 1
    assert collections.search_specifications({"terms": {"collection": ["films"]}}, 0, 10)["total"] == 0
    assert refused(collections.search_specifications, {"regexp": {"index": "l.*"}}, 0, 10)[0] == (
        "services.storage.unknown_query_keyword"
    )
