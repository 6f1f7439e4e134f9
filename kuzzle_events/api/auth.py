"""The ``auth`` controller on Django's users: log in and out, tokens, API keys, own rights and credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api.paging import page
from kuzzle_events.api.service import Service
from kuzzle_events.api.table import Table, route
from kuzzle_events.core.request import ANONYMOUS, User
from kuzzle_events.security.cookies import clear_cookie, token_cookie, wants_cookie
from kuzzle_events.security.queries import API_KEYS_MAPPING, matcher
from kuzzle_events.security.strategies import STRATEGIES
from kuzzle_events.security.tokens import AuthToken, parse_duration

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions", "STRATEGIES"]

_accounts = Service("kuzzle_events.security.accounts")
_credentials = Service("kuzzle_events.security.credentials")


def actions() -> Table:
    """The ``auth`` controller: action -> (handler, HTTP routes), Kuzzle's (deprecated ones included)."""
    me = "/_me/credentials/:strategy"
    old = "/credentials/:strategy/_me"

    def since_24(verb: str, path: str, instead: str) -> dict[str, Any]:
        # Kuzzle's routes of before 2.4, kept and named in the answers' deprecations.
        return route(verb, path, ("2.4.0", f"Use this route instead: http://kuzzle:7512{instead}"))

    return {
        "login": (login, [route("post", "/_login/:strategy"), route("get", "/_login/:strategy")]),
        "logout": (logout, [route("post", "/_logout")]),
        "checkToken": (check_token, [route("post", "/_checkToken")]),
        "checkRights": (check_rights, [route("post", "/_checkRights")]),
        "createToken": (create_token, [route("post", "/_createToken")]),
        "getCurrentUser": (get_current_user, [route("get", "/_me"), since_24("get", "/users/_me", "/_me")]),
        "getMyRights": (
            get_my_rights,
            [route("get", "/_me/_rights"), since_24("get", "/users/_me/_rights", "/_me/_rights")],
        ),
        "updateSelf": (update_self, [route("put", "/_me"), since_24("put", "/_updateSelf", "/_me")]),
        "refreshToken": (refresh_token, [route("post", "/_refreshToken")]),
        "createApiKey": (create_api_key, [route("post", "/api-keys/_create")]),
        "deleteApiKey": (delete_api_key, [route("delete", "/api-keys/:_id")]),
        "searchApiKeys": (search_api_keys, [route("post", "/api-keys/_search")]),
        "getStrategies": (get_strategies, [route("get", "/strategies")]),
        "credentialsExist": (
            credentials_exist,
            [route("get", f"{me}/_exists"), since_24("get", f"{old}/_exists", f"{me}/_exists")],
        ),
        "createMyCredentials": (
            create_my_credentials,
            [route("post", f"{me}/_create"), since_24("post", f"{old}/_create", f"{me}/_create")],
        ),
        "updateMyCredentials": (
            update_my_credentials,
            [route("put", f"{me}/_update"), since_24("put", f"{old}/_update", f"{me}/_update")],
        ),
        "validateMyCredentials": (
            validate_my_credentials,
            [route("post", f"{me}/_validate"), since_24("post", f"{old}/_validate", f"{me}/_validate")],
        ),
        "deleteMyCredentials": (delete_my_credentials, [route("delete", me), since_24("delete", old, me)]),
        "getMyCredentials": (get_my_credentials, [route("get", me), since_24("get", old, me)]),
    }


# Logging in and out -----------------------------------------------------------------------------


async def login(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Exchange credentials for a token (strategy ``local``: username and password).

    With ``cookieAuth``, the token is sent as an ``HttpOnly`` ``authToken`` cookie instead of ``jwt``.
    """
    security = app.security
    connection = request.context.connection
    # Kuzzle's limits.loginsPerSecond, counted before anything else as Kuzzle's funnel does.
    if not security.logins_per_second.allow(connection.id):
        raise errors.get("api.process.too_many_logins_requests")
    strategy = request.get_string("strategy")
    if strategy not in STRATEGIES:
        raise errors.get("security.credentials.unknown_strategy", strategy)
    # As Kuzzle's local strategy: credentials in the body, or else in the arguments (GET /_login/local).
    body = request.input.body if isinstance(request.input.body, dict) and request.input.body else request.input.args
    username, password = body.get("username"), body.get("password")
    for name, value in (("username", username), ("password", password)):
        if value in (None, ""):
            raise errors.get("api.assert.missing_argument", f"body.{name}")
        if not isinstance(value, str):
            raise errors.get("api.assert.invalid_type", f"body.{name}", "string")
    ttl = _ttl_of(app, request, app.config.TOKEN_TTL)
    # The client's address: the first of the chain the trusted proxies vouch for.
    address = connection.ips[0] if connection.ips else None
    # No username holds a NUL (Django's forms refuse it, PostgreSQL cannot even compare one): such
    # a username is a wrong one, not a database error.
    token = (
        None
        if "\x00" in str(username)
        else await security.orm("login")(username, password, security.secret, ttl, security.lockout, address)
    )
    if token is None:
        raise errors.UnauthorizedError(
            "Credentials rejected: wrong username or password", id="security.credentials.rejected"
        )
    return _send_token(request, token)


async def logout(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Revoke the caller's token (``global``: every token of the caller, API keys excepted).

    With ``cookieAuth``, the ``authToken`` cookie is cleared too, even if its token is no longer valid.
    """
    cookie = wants_cookie(request)
    token = request.context.token
    if not cookie and request.context.user.id == ANONYMOUS.id:
        raise errors.get("security.rights.unauthorized", request.input.controller, request.input.action)
    if isinstance(token, AuthToken):
        if request.get_boolean("global"):
            await app.security.orm("revoke_sessions")(token.user_id)
        elif token.api_key is None:
            await app.security.orm("revoke")(token.jwt)
    if cookie:
        request.response.set_header("Set-Cookie", clear_cookie())
    return {"acknowledged": True}


async def check_token(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Whether ``body.token`` (with ``cookieAuth``: the ``authToken`` cookie) is valid; none stands for anonymous."""
    if wants_cookie(request):
        jwt = request.input.jwt
    else:
        body = request.input.body if isinstance(request.input.body, dict) else {}
        jwt = body.get("token")
    if not jwt:
        # Kuzzle's clients check the anonymous user right after connecting.
        return {"valid": True, "kuid": ANONYMOUS.id, "expiresAt": -1}
    try:
        token = await app.security.verify(jwt)
    except errors.KuzzleError as error:
        if error.status != 401:
            raise
        return {"valid": False, "state": error.message}
    return {"valid": True, "kuid": token.user_id, "expiresAt": token.expires_at}


async def refresh_token(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A new token for the caller; the one used for this request is revoked."""
    token = _require_token(request)
    if token.api_key is not None:
        raise errors.get("security.token.refresh_forbidden")
    ttl = _ttl_of(app, request, app.config.TOKEN_TTL)
    fresh = await app.security.orm("refresh")(token.jwt, token.user_id, app.security.secret, ttl)
    if fresh is None:
        raise errors.get("security.token.invalid")
    return _send_token(request, fresh)


async def create_token(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Another token for the caller, which ``singleUse`` makes good for one request only."""
    _require_user(request)
    single_use = request.get_boolean("singleUse")
    if str(request.input.args.get("expiresIn")) == "-1":
        raise errors.get("security.token.invalid_expiration", "expiresIn cannot be infinite")
    ttl = _ttl_of(app, request, app.config.TOKEN_TTL)
    user = request.context.user
    token = await app.security.orm("create_token")(user.id, app.security.secret, ttl, single_use)
    return {"expiresAt": token.expires_at, "singleUse": single_use, "token": token.jwt, "ttl": token.ttl}


# The caller -------------------------------------------------------------------------------------


async def get_current_user(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The caller: ``{"_id", "_source": {...content, "profileIds"}, "strategies"}``."""
    user = request.context.user
    strategies = [] if user.id == ANONYMOUS.id else await _credentials.strategies_of(user.id)
    return {**user.to_dict(), "strategies": strategies}


async def get_my_rights(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The caller's rights as its roles name them (Kuzzle's entries, see :meth:`Rights.listed`)."""
    rights = await app.security.rights()
    hits = rights.listed(request.context.user.profile_ids)
    return {"hits": hits, "total": len(hits)}


async def check_rights(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Whether the caller may run the request in the body: ``{"allowed": bool}``."""
    return {"allowed": await allowed(app, request, request.context.user.profile_ids)}


async def allowed(app: Application, request: KuzzleRequest, profile_ids: list[str]) -> bool:
    """Whether ``profile_ids`` may run the request described by the body (``controller``, ``action``)."""
    body = request.get_body()
    for name in ("controller", "action"):
        if not isinstance(body.get(name), str):
            raise errors.get("api.assert.missing_argument", f"body.{name}")
    rights = await app.security.rights()
    return rights.allows(profile_ids, body["controller"], body["action"], body.get("index"), body.get("collection"))


async def update_self(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Merge the body into the caller's content (``_id`` and ``profileIds`` are not the caller's to change)."""
    user = _require_user(request)
    body = request.get_body()
    for name in ("_id", "profileIds"):
        if name in body:
            raise errors.get("api.assert.forbidden_argument", f"body.{name}")
    return await _accounts.update_user(user.id, body)


# API keys ---------------------------------------------------------------------------------------


async def create_api_key(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """A never-refreshed token for the caller (``expiresIn`` -1 by default: no expiry)."""
    user = _require_user(request)
    return await new_api_key(app, request, user.id, check_max_ttl=True)


async def new_api_key(app: Application, request: KuzzleRequest, kuid: str, *, check_max_ttl: bool) -> dict[str, Any]:
    """An API key for ``kuid`` from the request's ``_id``, ``expiresIn`` and ``body.description``."""
    description = request.get_body().get("description")
    if not isinstance(description, str) or not description:
        raise errors.get("api.assert.missing_argument", "body.description")
    key_id = request.get_string("_id", None) or None
    ttl = _ttl_of(app, request, -1, check_max_ttl=check_max_ttl)
    return await app.security.orm("create_api_key")(kuid, key_id, description, app.security.secret, ttl)


async def delete_api_key(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """Revoke one of the caller's API keys."""
    return await drop_api_key(app, _require_user(request).id, request.get_id())


async def drop_api_key(app: Application, kuid: str, key_id: str) -> dict[str, Any]:
    """Revoke the API key ``key_id`` of ``kuid``; ``services.storage.not_found`` if it has none."""
    if not await app.security.orm("delete_api_key")(kuid, key_id):
        error = errors.get("services.storage.not_found", key_id, "kuzzle", "api-keys")
        error.message = f'ApiKey "{key_id}" not found for user "{kuid}".'
        raise error
    return {"_id": key_id}


async def search_api_keys(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    """The caller's API keys matching the body's query (never their tokens). As in Kuzzle, an
    anonymous caller allowed this action is not refused: it has no key."""
    return await find_api_keys(app, request, _caller(request).id)


async def find_api_keys(app: Application, request: KuzzleRequest, kuid: str) -> dict[str, Any]:
    """The API keys of ``kuid`` matching the body's ``query`` (or the body itself), paged; ``lang``
    ``koncorde`` for Koncorde's filters."""
    body = request.get_body({})
    query = body.get("query", body) if isinstance(body, dict) else body
    match = matcher(query, request.get_string("lang", "elasticsearch"), API_KEYS_MAPPING)
    keys = [key for key in await app.security.orm("api_keys_of")(kuid) if match(key)]
    return page(request, keys)


# Credentials of the caller ----------------------------------------------------------------------


async def get_strategies(app: Application, request: KuzzleRequest) -> list[str]:
    """The authentication strategies: ``["local"]``."""
    return list(STRATEGIES)


async def credentials_exist(app: Application, request: KuzzleRequest) -> bool:
    return await _credentials.exists(_require_user(request).id, request.get_string("strategy"))


async def create_my_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    user = _require_user(request)
    return await _credentials.create(user.id, request.get_body(), request.get_string("strategy"))


async def update_my_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    user = _require_user(request)
    return await _credentials.update(user.id, request.get_body(), request.get_string("strategy"))


async def validate_my_credentials(app: Application, request: KuzzleRequest) -> bool:
    user = _require_user(request)
    return await _credentials.validate(user.id, request.get_body(), False, request.get_string("strategy"))


async def delete_my_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    await _credentials.delete(_require_user(request).id, request.get_string("strategy"))
    return {"acknowledged": True}


async def get_my_credentials(app: Application, request: KuzzleRequest) -> dict[str, Any]:
    return await _credentials.get_info(_require_user(request).id, request.get_string("strategy"))


# Shared -----------------------------------------------------------------------------------------


def _ttl_of(app: Application, request: KuzzleRequest, default: Any, *, check_max_ttl: bool = True) -> int:
    value = request.input.args.get("expiresIn")
    ttl = parse_duration(default if value in (None, "") else value)
    limit = parse_duration(app.config.TOKEN_MAX_TTL, "TOKEN_MAX_TTL")
    if check_max_ttl and limit != -1 and (ttl == -1 or ttl > limit):
        raise errors.get("security.token.ttl_exceeded")
    return ttl


def _send_token(request: KuzzleRequest, token: AuthToken) -> dict[str, Any]:
    answer: dict[str, Any] = {"_id": token.user_id, "jwt": token.jwt, "expiresAt": token.expires_at, "ttl": token.ttl}
    if wants_cookie(request):
        # The token travels in an HttpOnly cookie, out of reach of the page's scripts.
        request.response.set_header("Set-Cookie", token_cookie(token.jwt, token.expires_at))
        del answer["jwt"]
    return answer


def _caller(request: KuzzleRequest) -> User:
    """The caller: its token's user, or the anonymous user."""
    context = request.context
    user = context.user
    if user.id == ANONYMOUS.id and isinstance(context.token, AuthToken):
        # A token set by the server's own code, without its user loaded.
        user = context.token.user or User(context.token.user_id, [])
    return user


def _require_user(request: KuzzleRequest) -> User:
    """The caller, who must not be anonymous (``security.rights.unauthorized``)."""
    user = _caller(request)
    if user.id == ANONYMOUS.id:
        raise errors.get("security.rights.unauthorized", request.input.controller, request.input.action)
    return user


def _require_token(request: KuzzleRequest) -> AuthToken:
    token = request.context.token
    if not isinstance(token, AuthToken):
        raise errors.get("security.rights.unauthorized", request.input.controller, request.input.action)
    return token
