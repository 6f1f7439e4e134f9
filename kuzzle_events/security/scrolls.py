"""Scroll cursors of ``security:searchUsers`` / ``searchProfiles`` (``scroll``), read back by
``security:scrollUsers`` / ``scrollProfiles``.

A cursor holds the search and where the next page starts, signed with ``SECRET_KEY`` and dated: any
server process can continue it until its ``scroll`` duration runs out, and nobody can forge one.
"""

from __future__ import annotations

from typing import Any

from django.core import signing

from kuzzle_events import errors

__all__ = ["open_cursor", "read_cursor"]

_SALT = "kuzzle_events.security.scroll"


def open_cursor(kind: str, search: dict[str, Any], start: int, size: int, ttl_ms: int) -> str:
    """The ``scrollId`` of the page of ``size`` hits from ``start`` of a ``kind`` search."""
    payload = {"kind": kind, "search": search, "from": start, "size": size, "ttl": ttl_ms}
    return signing.dumps(payload, salt=_SALT, compress=True)


def read_cursor(scroll_id: str, kind: str) -> dict[str, Any]:
    """The cursor behind ``scroll_id``; ``services.storage.unknown_scroll_id`` if it is not one, has
    expired, or belongs to another kind of search."""
    try:
        unsigned = signing.loads(scroll_id, salt=_SALT)
        if not isinstance(unsigned, dict) or unsigned.get("kind") != kind:
            raise signing.BadSignature()
        signing.loads(scroll_id, salt=_SALT, max_age=max(unsigned["ttl"], 0) / 1000)
    except (signing.BadSignature, KeyError, TypeError):
        raise errors.get("services.storage.unknown_scroll_id") from None
    return unsigned
