"""``collection:searchSpecifications`` with ``scroll``, and ``collection:scrollSpecifications``: sync
functions, one hop per action.

Specifications are configuration (one per collection, few), searched again for each page: a scroll
id only has to say which search and where its next page starts. It is that state, signed with the
project's ``SECRET_KEY`` and given an expiry, so that any server process can serve the next page
without a table of cursors; a forged, altered or expired id is ``services.storage.unknown_scroll_id``,
as Kuzzle answers for one it does not know. Each page answers a new id, its expiry renewed by the
page's ``scroll`` TTL (Kuzzle's default and maximum durations, as ``document:scroll``'s).
"""

from __future__ import annotations

from typing import Any

from django.core import signing

from kuzzle_events import errors
from kuzzle_events.documents.collections import search_specifications
from kuzzle_events.documents.search import scroll_duration
from kuzzle_events.security.tokens import now_ms

__all__ = ["search", "scroll"]

_SALT = "kuzzle_events.specifications.scroll"


def _issue(query: dict[str, Any], start: int, size: int, ttl: Any) -> str:
    state = {"q": query, "from": start, "size": size, "exp": now_ms() + scroll_duration(ttl)}
    return signing.dumps(state, salt=_SALT, compress=True)


def search(query: dict[str, Any], start: int, size: int, ttl: Any) -> dict[str, Any]:
    """The first page: ``{hits, scrollId, total}``."""
    scroll_id = _issue(query, start + size, size, ttl)
    return {**search_specifications(query, start, size), "scrollId": scroll_id}


def scroll(scroll_id: str, ttl: Any = None) -> dict[str, Any]:
    """The next page of the search ``scroll_id`` was given by: ``{hits, scrollId, total}``."""
    try:
        state = signing.loads(scroll_id, salt=_SALT)
    except signing.BadSignature:
        raise errors.get("services.storage.unknown_scroll_id") from None
    if not isinstance(state, dict) or state.get("exp", 0) < now_ms():
        raise errors.get("services.storage.unknown_scroll_id")
    query, start, size = state["q"], int(state["from"]), int(state["size"])
    next_id = _issue(query, start + size, size, ttl)
    return {**search_specifications(query, start, size), "scrollId": next_id}
