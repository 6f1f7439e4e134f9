"""``from`` and ``size``: the page of a search's hits that an action returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors

if TYPE_CHECKING:
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["bounds", "page"]


def bounds(request: KuzzleRequest, size: int = 10) -> tuple[int, int]:
    """``(from, size)`` of the request, ``api.assert.invalid_argument`` if one is negative."""
    start = request.get_integer("from", 0)
    size = request.get_integer("size", size)
    if start < 0 or size < 0:
        raise errors.get("api.assert.invalid_argument", "from/size", "positive integers")
    return start, size


def page(request: KuzzleRequest, hits: list[Any]) -> dict[str, Any]:
    """``{"hits": [...the page...], "total": len(hits)}``."""
    start, size = bounds(request)
    return {"hits": hits[start : start + size], "total": len(hits)}
