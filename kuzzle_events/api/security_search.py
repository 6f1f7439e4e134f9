"""Searches of the ``security`` controller: users, profiles and roles, paged or scrolled.

A search's body is Elasticsearch's query DSL (``query``, Kuzzle's default) or Koncorde's filters
(``lang: "koncorde"``), run on the users', profiles' and roles' documents, with an optional ``sort``. With ``scroll`` (a
duration), the answer carries a ``scrollId`` that ``scrollUsers`` / ``scrollProfiles`` continue.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api.paging import bounds
from kuzzle_events.api.service import Service
from kuzzle_events.documents.filters import sort_documents
from kuzzle_events.security.queries import matcher
from kuzzle_events.security.scrolls import open_cursor, read_cursor
from kuzzle_events.security.tokens import parse_duration

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = [
    "search_users",
    "scroll_users",
    "search_profiles",
    "scroll_profiles",
    "search_roles",
    "search_users_by_credentials",
]

_accounts = Service("kuzzle_events.security.accounts")
_credentials = Service("kuzzle_events.security.credentials")
_roles = Service("kuzzle_events.security.roles")


def _search_of(request: KuzzleRequest, filter_key: str | None = None) -> dict[str, Any]:
    """What a search asks for: its query, language and (roles, profiles) legacy filter."""
    body = request.get_body({})
    lang = request.get_string("lang", "elasticsearch")
    search: dict[str, Any] = {"query": body.get("query") or {}, "lang": lang}
    if body.get("sort") is not None:
        sort_documents([], body["sort"])  # a malformed sort fails now
        search["sort"] = body["sort"]
    if filter_key is not None and body.get(filter_key) is not None:
        if body.get("query"):
            raise errors.BadRequestError(
                f'You cannot specifify both "{filter_key}" and "query". '
                'Prefer the usage of "query" property with a search query.',
                id="api.assert.invalid_argument",
            )
        search[filter_key] = body[filter_key]
    matcher(search["query"], lang)  # a malformed query fails now, not in the database thread
    return search


async def _run(kind: str, search: dict[str, Any]) -> list[dict[str, Any]]:
    match = matcher(search["query"], search["lang"])
    if kind == "users":
        hits = await _accounts.search_users(match)
    elif kind == "profiles":
        hits = await _roles.search_profiles(search.get("roles"), match)
    else:
        hits = await _roles.search_roles(search.get("controllers"), match)
    return sort_documents(hits, search["sort"]) if "sort" in search else hits


async def _answer(request: KuzzleRequest, kind: str, search: dict[str, Any], start: int, size: int) -> dict[str, Any]:
    hits = await _run(kind, search)
    answer: dict[str, Any] = {"hits": hits[start : start + size], "total": len(hits)}
    scroll = request.input.args.get("scroll")
    if scroll not in (None, ""):
        answer["scrollId"] = open_cursor(kind, search, start + size, size, parse_duration(scroll, "scroll"))
    return answer


async def _scroll(request: KuzzleRequest, kind: str) -> dict[str, Any]:
    cursor = read_cursor(request.get_string("scrollId"), kind)
    scroll = request.input.args.get("scroll")
    ttl = cursor["ttl"] if scroll in (None, "") else parse_duration(scroll, "scroll")
    hits = await _run(kind, cursor["search"])
    start, size = cursor["from"], cursor["size"]
    page = hits[start : start + size]
    return {"hits": page, "total": len(hits), "scrollId": open_cursor(kind, cursor["search"], start + size, size, ttl)}


async def search_users(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Users matching ``body.query``, paged (``from``, ``size``) or scrolled (``scroll``)."""
    start, size = bounds(request)
    return await _answer(request, "users", _search_of(request), start, size)


async def scroll_users(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The next page of a scrolled user search."""
    return await _scroll(request, "users")


async def search_profiles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Profiles matching ``body.query``, or holding one of ``body.roles``."""
    start, size = bounds(request)
    return await _answer(request, "profiles", _search_of(request, "roles"), start, size)


async def scroll_profiles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The next page of a scrolled profile search."""
    return await _scroll(request, "profiles")


async def search_roles(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Roles matching ``body.query``, or naming one of ``body.controllers`` (or ``*``)."""
    start, size = bounds(request)
    search = _search_of(request, "controllers")
    hits = await _run("roles", search)
    return {"hits": hits[start : start + size], "total": len(hits)}


async def search_users_by_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """``{"hits": [{"username", "kuid"}], "total"}`` of the credentials matching ``body.query``."""
    strategy = request.get_string("strategy")
    start, size = bounds(request)
    search = _search_of(request)
    return await _credentials.search(search["query"], start, size, strategy, search["lang"])
