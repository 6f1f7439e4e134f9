"""The mappings of Kuzzle's security collections (``users``, ``profiles``, ``roles``).

Kuzzle keeps them in Elasticsearch; here they are documents that clients read and extend
(``security:getUserMapping`` / ``updateUserMapping``, as Kourou's ``user:export-mappings`` and
``import-mappings`` do). Plain sync functions on the ORM.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction

from kuzzle_events import errors
from kuzzle_events.documents.mappings import rendered
from kuzzle_events.models import SecurityState

__all__ = ["COLLECTIONS", "DEFAULT_MAPPINGS", "get_mapping", "update_mapping"]

COLLECTIONS = ("users", "profiles", "roles")

# Kuzzle's own mappings of its internal index.
DEFAULT_MAPPINGS: dict[str, dict[str, Any]] = {
    "users": {"dynamic": "false", "properties": {"profileIds": {"type": "keyword"}}},
    "profiles": {
        "dynamic": "false",
        "properties": {
            "tags": {"type": "keyword"},
            "policies": {
                "properties": {
                    "roleId": {"type": "keyword"},
                    "restrictedTo": {
                        "type": "nested",
                        "properties": {"index": {"type": "keyword"}, "collections": {"type": "keyword"}},
                    },
                }
            },
        },
    },
    "roles": {
        "dynamic": "false",
        "properties": {"tags": {"type": "keyword"}, "controllers": {"dynamic": "false", "properties": {}}},
    },
}

def _mapping(state: SecurityState | None, collection: str) -> dict[str, Any]:
    stored = (state.mappings or {}).get(collection) if state is not None else None
    return copy.deepcopy(stored if stored is not None else DEFAULT_MAPPINGS[collection])


def get_mapping(collection: str) -> dict[str, Any]:
    """``{"mapping": <properties>}`` of a security collection, as Elasticsearch renders them (Kuzzle's
    roles mapping shows ``controllers`` as ``{"type": "object", "dynamic": "false"}``)."""
    return {"mapping": rendered(_mapping(SecurityState.objects.filter(pk=1).first(), collection)["properties"])}


def update_mapping(collection: str, body: Any) -> dict[str, Any]:
    """Add ``body.properties`` (and ``dynamic``) to a collection's mapping; the mapping in force."""
    if not isinstance(body, dict):
        raise errors.get("api.assert.invalid_type", "body", "object")
    properties = body.get("properties", {})
    if not isinstance(properties, dict):
        raise errors.get("api.assert.invalid_type", "body.properties", "object")
    unknown = set(body) - {"properties", "dynamic", "_meta"}
    if unknown:
        raise errors.get("api.assert.unexpected_argument", sorted(unknown)[0], "properties, dynamic, _meta")
    with transaction.atomic():
        state, _ = SecurityState.objects.select_for_update().get_or_create(pk=1)
        mapping = _mapping(state, collection)
        _merge(mapping.setdefault("properties", {}), properties)
        for key in ("dynamic", "_meta"):
            if key in body:
                mapping[key] = body[key]
        state.mappings = {**(state.mappings or {}), collection: mapping}
        state.save(update_fields=["mappings"])
    return mapping


def _merge(into: dict[str, Any], new: dict[str, Any]) -> None:
    # As Elasticsearch's put-mapping: fields are added and nested properties merged.
    for name, field in new.items():
        if isinstance(field, dict) and isinstance(into.get(name), dict) and "properties" in field:
            target = into[name]
            for key, value in field.items():
                if key != "properties":
                    target[key] = value
            _merge(target.setdefault("properties", {}), field["properties"])
        else:
            into[name] = copy.deepcopy(field)
