"""The ``auth`` controller on Django's users: log in and out, tokens, API keys, own rights."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api.paging import page
from kuzzle_events.api.table import Table, route
from kuzzle_events.core.request import ANONYMOUS
from kuzzle_events.security.tokens import AuthToken, parse_duration

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions"]

STRATEGIES = ("local",)


def actions() -> Table:
    """The ``auth`` controller: action -> (handler, HTTP routes)."""
    return {
        "login": (login, [route("post", "/_login/:strategy")]),
        "logout": (logout, [route("post", "/_logout")]),
        "checkToken": (check_token, [route("post", "/_checkToken")]),
        "getCurrentUser": (get_current_user, [route("get", "/users/_me"), route("get", "/_me")]),
        "getMyRights": (get_my_rights, [route("get", "/users/_me/_rights")]),
        "refreshToken": (refresh_token, [route("post", "/_refreshToken")]),
        "createApiKey": (create_api_key, [route("post", "/users/_me/api-keys/_create")]),
        "deleteApiKey": (delete_api_key, [route("delete", "/users/_me/api-keys/:_id")]),
        "searchApiKeys": (search_api_keys, [route("post", "/users/_me/api-keys/_search")]),
    }


async def login(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Exchange credentials for a token (strategy ``local``: username and password)."""
    security = app.security
    strategy = request.get_string("strategy")
    if strategy not in STRATEGIES:
        raise errors.get("security.credentials.unknown_strategy", strategy)
    body = request.get_body()
    username, password = body.get("username"), body.get("password")
    for name, value in (("username", username), ("password", password)):
        if value in (None, ""):
            raise errors.get("api.assert.missing_argument", f"body.{name}")
        if not isinstance(value, str):
            raise errors.get("api.assert.invalid_type", f"body.{name}", "string")
    ttl = _ttl_of(app, request, app.config.TOKEN_TTL)
    ips = request.context.connection.ips
    keys = [f"user:{username}"] + ([f"ip:{ips[0]}"] if ips else [])
    if not security.login_limiter.allow(*keys):
        raise errors.get("api.process.too_many_logins_requests")
    # No username holds a NUL (Django's forms refuse it, PostgreSQL cannot even compare one): such
    # a username is a wrong one, not a database error.
    token = None if "\x00" in str(username) else await security.orm("login")(username, password, security.secret, ttl)
    if token is None:
        raise errors.UnauthorizedError(
            "Credentials rejected: wrong username or password", id="security.credentials.rejected"
        )
    return _token_answer(token)


async def logout(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Revoke the caller's token (``global``: every token of the caller, API keys excepted)."""
    token = request.context.token
    if isinstance(token, AuthToken) and token.api_key is None:
        if request.get_boolean("global"):
            await app.security.orm("revoke_sessions")(token.user_id)
        else:
            await app.security.orm("revoke")(token.jwt)
    return {}


async def check_token(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Whether ``body.token`` is valid; no token stands for the anonymous user."""
    body = request.input.body if isinstance(request.input.body, dict) else {}
    jwt = body.get("token")
    if not jwt:
        # Kuzzle's clients check the anonymous user right after connecting.
        return {"valid": True, "kuid": ANONYMOUS.id, "expiresAt": -1}
    try:
        token = await app.security.verify(jwt)
    except errors.KuzzleError as error:
        return {"valid": False, "state": error.message}
    return {"valid": True, "kuid": token.user_id, "expiresAt": token.expires_at}


async def get_current_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The caller: ``{"_id", "_source": {...content, "profileIds"}, "strategies"}``."""
    user = request.context.user
    return {**user.to_dict(), "strategies": [] if user.id == ANONYMOUS.id else list(STRATEGIES)}


async def get_my_rights(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Every action of the API, allowed or denied for the caller."""
    rights = await app.security.rights()
    known = [(c.name, a) for c in app.controller.controllers.values() for a in c.actions]
    hits = rights.granted(request.context.user.profile_ids, known)
    return {"hits": hits, "total": len(hits)}


async def refresh_token(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A new token for the caller; the one used for this request is revoked."""
    token = _require_token(request)
    if token.api_key is not None:
        raise errors.get("security.token.refresh_forbidden")
    ttl = _ttl_of(app, request, app.config.TOKEN_TTL)
    fresh = await app.security.orm("refresh")(token.jwt, token.user_id, app.security.secret, ttl)
    if fresh is None:
        raise errors.get("security.token.invalid")
    return _token_answer(fresh)


async def create_api_key(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A never-refreshed token for the caller (``expiresIn`` -1 by default: no expiry)."""
    token = _require_token(request)
    body = request.get_body()
    description = body.get("description")
    if not isinstance(description, str) or not description:
        raise errors.get("api.assert.missing_argument", "body.description")
    key_id = request.get_string("_id", None) or uuid.uuid4().hex
    ttl = _ttl_of(app, request, -1)
    key = await app.security.orm("create_api_key")(token.user_id, key_id, description, app.security.secret, ttl)
    return {
        "_id": key_id,
        "_source": {
            "userId": key.user_id,
            "description": description,
            "expiresAt": key.expires_at,
            "ttl": key.ttl,
            "token": key.jwt,
        },
    }


async def delete_api_key(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Revoke one of the caller's API keys."""
    token = _require_token(request)
    key_id = request.get_id()
    if not await app.security.orm("delete_api_key")(token.user_id, key_id):
        raise errors.get("security.api_key.not_found", key_id)
    return {"_id": key_id}


async def search_api_keys(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The caller's API keys (never their tokens)."""
    token = _require_token(request)
    return page(request, await app.security.orm("api_keys_of")(token.user_id))


def _ttl_of(app: Application, request: KuzzleRequest, default: Any) -> int:
    value = request.input.args.get("expiresIn")
    ttl = parse_duration(default if value in (None, "") else value)
    limit = parse_duration(app.config.TOKEN_MAX_TTL, "TOKEN_MAX_TTL")
    if limit != -1 and (ttl == -1 or ttl > limit):
        raise errors.get("security.token.ttl_exceeded")
    return ttl


def _token_answer(token: AuthToken) -> dict[str, Any]:
    return {"_id": token.user_id, "jwt": token.jwt, "expiresAt": token.expires_at, "ttl": token.ttl}


def _require_token(request: KuzzleRequest) -> AuthToken:
    token = request.context.token
    if not isinstance(token, AuthToken):
        raise errors.get("security.rights.unauthorized", request.input.controller, request.input.action)
    return token
