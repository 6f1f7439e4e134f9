"""Indexes and collections in Django's database: sync functions, one hop per action."""

from __future__ import annotations

import re
from typing import Any

from kuzzle_events import errors
from kuzzle_events.models import Collection, Index

__all__ = [
    "check_name",
    "create_index",
    "delete_index",
    "index_exists",
    "list_indexes",
    "create_collection",
    "delete_collection",
    "collection_exists",
    "list_collections",
    "find_collection",
]

_NAME = re.compile(r"^[a-z0-9][a-z0-9_+\-]{0,125}$")


def check_name(kind: str, name: Any) -> str:
    """An index or collection name: lower case letters, digits, ``_ + -``, at most 126 characters."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise errors.get(f"services.storage.invalid_{kind}_name", name)
    return name


def create_index(name: str) -> None:
    check_name("index", name)
    _, created = Index.objects.get_or_create(name=name)
    if not created:
        raise errors.get("services.storage.index_already_exists", "public", name)


def delete_index(name: str) -> None:
    deleted, _ = Index.objects.filter(name=name).delete()
    if not deleted:
        raise errors.get("services.storage.unknown_index", name)


def index_exists(name: str) -> bool:
    return Index.objects.filter(name=name).exists()


def list_indexes() -> list[str]:
    return list(Index.objects.values_list("name", flat=True))


def create_collection(index: str, name: str) -> bool:
    """Create a collection (its index must exist); ``False`` if it was there already."""
    check_name("collection", name)
    found = Index.objects.filter(name=index).first()
    if found is None:
        raise errors.get("services.storage.unknown_index", index)
    _, created = Collection.objects.get_or_create(index=found, name=name)
    return created


def delete_collection(index: str, name: str) -> None:
    find_collection(index, name).delete()


def collection_exists(index: str, name: str) -> bool:
    return Collection.objects.filter(index_id=index, name=name).exists()


def list_collections(index: str) -> list[str]:
    if not index_exists(index):
        raise errors.get("services.storage.unknown_index", index)
    return list(Collection.objects.filter(index_id=index).values_list("name", flat=True))


def find_collection(index: str, name: str) -> Collection:
    """The collection's row; ``services.storage.unknown_index`` / ``unknown_collection`` if missing."""
    found = Collection.objects.filter(index_id=index, name=name).first()
    if found is None:
        if not index_exists(index):
            raise errors.get("services.storage.unknown_index", index)
        raise errors.get("services.storage.unknown_collection", index, name)
    return found
