"""Kuzzle's cookie authentication, for browsers: the token in an ``HttpOnly`` ``authToken`` cookie.

``auth:login`` and ``auth:refreshToken`` with ``cookieAuth: true`` set the cookie instead of answering
the ``jwt``; an HTTP request carrying the cookie is authenticated by it; ``auth:logout`` with
``cookieAuth`` clears it. No Django here.
"""

from __future__ import annotations

from email.utils import formatdate
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors

if TYPE_CHECKING:
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["COOKIE", "wants_cookie", "token_cookie", "clear_cookie", "cookie_token"]

COOKIE = "authToken"
_ATTRIBUTES = "Path=/; HttpOnly; SameSite=Strict"


def wants_cookie(request: KuzzleRequest) -> bool:
    """Whether the request asks for cookie authentication (``cookieAuth``)."""
    value = request.input.args.get("cookieAuth")
    return value is not None and value is not False and request.get_boolean("cookieAuth")


def token_cookie(jwt: str, expires_at: int) -> str:
    """The ``Set-Cookie`` value carrying a token that expires at ``expires_at`` (epoch ms, -1: never)."""
    expires = "" if expires_at == -1 else f"; Expires={formatdate(expires_at / 1000, usegmt=True)}"
    return f"{COOKIE}={jwt}{expires}; {_ATTRIBUTES}"


def clear_cookie() -> str:
    """The ``Set-Cookie`` value that removes the token cookie (Kuzzle's ``authToken=null``)."""
    return f"{COOKIE}=null; Expires=Thu, 01 Jan 1970 00:00:00 GMT; {_ATTRIBUTES}"


def cookie_token(headers: Any) -> str | None:
    """The token in a request's ``Cookie`` header, if any (``null`` is a cleared cookie)."""
    raw = headers.get("cookie") if isinstance(headers, dict) else None
    if not raw or COOKIE not in raw:
        return None
    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(raw)
    except CookieError:
        raise errors.get("security.cookie.invalid") from None
    morsel = cookies.get(COOKIE)
    if morsel is None or not morsel.value or morsel.value == "null":
        return None
    return morsel.value
