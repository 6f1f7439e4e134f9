"""``app.security``: who the caller is and whether they may run the action, for every protocol.

The funnel calls :meth:`Security.authorize` for each request. An anonymous request whose rights
snapshot is fresh is decided without awaiting anything. A token costs one database hop (is it still
honoured? whose is it?), which also tells whether the rights changed in another process. Without
tokens, another process's changes are picked up within ``SECURITY_CACHE_TTL`` seconds.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import DatabaseError

from kuzzle_events import errors
from kuzzle_events.core.request import ANONYMOUS, KuzzleRequest
from kuzzle_events.orm import orm
from kuzzle_events.security import lockout
from kuzzle_events.security.cookies import cookie_token, wants_cookie
from kuzzle_events.security.lockout import Lockout
from kuzzle_events.security.ratelimit import LoginsPerSecond
from kuzzle_events.security.rights import TRACE_RIGHT, LocalChanges, Rights
from kuzzle_events.security.tokens import AuthToken, decode

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.controllers import ActionDef

__all__ = ["Security"]

# Actions that ignore the caller's token: logging in again with a stale token must work, and
# checkToken judges the token in its body.
_TOKENLESS = frozenset({("auth", "login"), ("auth", "checkToken")})


class Security:
    """Authentication and rights of one application."""

    def __init__(self, app: Application) -> None:
        self._app = app
        self._rights: Rights | None = None
        self._generation = -1
        self._fresh_until = 0.0
        self._limiter: LoginsPerSecond | None = None
        self._lockout: Lockout | None = None
        self._orm: dict[str, Callable[..., Awaitable[Any]]] = {}
        # The reload in progress, shared by every request that needs it (one database hop, not
        # one per request arriving meanwhile).
        self._loading: asyncio.Task[None] | None = None

    # Database access, one hop per call ----------------------------------------------------------

    def orm(self, name: str) -> Callable[..., Awaitable[Any]]:
        """``kuzzle_events.security.store.<name>`` as a coroutine function (one hop per call)."""
        fn = self._orm.get(name)
        if fn is None:
            fn = self._orm[name] = orm("kuzzle_events.security.store", name)
        return fn

    @property
    def secret(self) -> str:
        return str(settings.SECRET_KEY)

    @property
    def logins_per_second(self) -> LoginsPerSecond:
        """``LOGINS_PER_SECOND``: logins per connection and per second, counted by this process."""
        limiter = self._limiter
        limit = self._app.config.LOGINS_PER_SECOND
        if limiter is None or limiter.limit != limit:
            limiter = self._limiter = LoginsPerSecond(limit)
        return limiter

    @property
    def lockout(self) -> Lockout:
        """``LOGIN_ATTEMPTS`` failed logins per username and address, in Django's ``LOGIN_CACHE``."""
        c = self._app.config
        current = self._lockout
        if current is None or (current.alias, current.limit, current.window) != (
            c.LOGIN_CACHE,
            c.LOGIN_ATTEMPTS,
            c.LOGIN_WINDOW,
        ):
            current = self._lockout = Lockout(c.LOGIN_CACHE, c.LOGIN_ATTEMPTS, c.LOGIN_WINDOW)
        return current

    # Rights snapshot ----------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Forget the rights snapshot and login counters (the next request reloads)."""
        self._rights = None
        self._fresh_until = 0.0
        if self._limiter is not None:
            self._limiter.reset()
        lockout.forget()

    def _is_fresh(self) -> bool:
        return (
            self._rights is not None and self._generation == LocalChanges.count and time.monotonic() < self._fresh_until
        )

    async def rights(self) -> Rights:
        """The current snapshot, reloaded first if this or another process changed rights."""
        if not self._is_fresh():
            await self._refresh()
        assert self._rights is not None
        return self._rights

    def _refresh(self) -> asyncio.Task[None]:
        """The shared reload: the one in progress on this loop, or a new one."""
        loading = self._loading
        loop = asyncio.get_running_loop()
        if loading is None or loading.done() or loading.get_loop() is not loop:
            loading = self._loading = loop.create_task(self._reload_with_switches())
            loading.add_done_callback(self._reloaded)
        return loading

    async def settle(self) -> None:
        """Wait for a background reload of the rights, if one is running on this loop."""
        loading = self._loading
        if loading is not None and not loading.done() and loading.get_loop() is asyncio.get_running_loop():
            # Its failure was logged by _reloaded; a caller stopping only needs it finished.
            await asyncio.wait([loading])

    def _reloaded(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            # Keep the rights in hand and try again after SECURITY_CACHE_TTL; requests awaiting this
            # reload get the error themselves.
            self._fresh_until = time.monotonic() + self._app.config.SECURITY_CACHE_TTL
            self._app.log.warning("kuzzle_events: reloading rights failed: %s", task.exception())

    async def _reload_with_switches(self) -> None:
        await self._reload(None)
        # The same periodic check reads the listener switches other processes set: a process with
        # traffic follows them within SECURITY_CACHE_TTL even when nothing watches them for it
        # (servers without ASGI lifespan: WSGI, daphne).
        try:
            await self._app.switches.load()
        except errors.KuzzleError as error:
            self._app.log.warning("kuzzle_events: reading the listener switches failed: %s", error)

    async def _reload(self, seen_version: int | None) -> None:
        generation = LocalChanges.count
        current = self._rights
        if (
            seen_version is not None
            and current is not None
            and seen_version == current.version
            and (generation == self._generation)
        ):
            self._fresh_until = time.monotonic() + self._app.config.SECURITY_CACHE_TTL
            return
        # A change made by this process must be read even if the stored version looks the same.
        known = current.version if current is not None and generation == self._generation else None
        loaded = await self.orm("load_rights")(known)
        if loaded is not None:
            self._rights = loaded
        self._generation = generation
        self._fresh_until = time.monotonic() + self._app.config.SECURITY_CACHE_TTL

    async def start(self) -> None:
        """Load the rights at start, saying so when nobody is restricted yet."""
        try:
            # Base roles first: creating them counts as a change, which would make the rights
            # loaded next look stale at once.
            await self.orm("ensure_defaults")()
            rights = await self.rights()
        except errors.KuzzleError as error:
            cause = error.__cause__ or error.message
            raise errors.get(
                "core.fatal.service_unavailable", f"database ({cause}); is it migrated (manage.py migrate)?"
            ) from error
        if rights.allows(["anonymous"], "security", "createUser"):
            # Kuzzle's base rights until they are restricted: anybody may run every action.
            self._app.log.warning(
                "kuzzle_events: anonymous users may run every action (the base roles are not restricted). "
                "Create the first administrator with security:createFirstAdmin and reset: true, "
                "or `manage.py createsuperuser`."
            )
        alias = self._app.config.LOGIN_CACHE
        if self._app.config.LOGIN_ATTEMPTS > 0 and alias not in settings.CACHES:
            # Failed logins could not be counted: say it now rather than at each login.
            raise errors.PluginImplementationError(
                f"KUZZLE_EVENTS LOGIN_CACHE {alias!r} is not one of Django's CACHES ({', '.join(settings.CACHES)})"
            )

    # Authentication -----------------------------------------------------------------------------

    async def verify(self, jwt: Any) -> AuthToken:
        """The token behind ``jwt`` if it is valid and honoured; its 401 error otherwise."""
        payload = decode(self.secret, jwt)
        found = await self.orm("lookup")(jwt, payload["_id"])
        if found is None:
            raise errors.get("security.token.invalid")
        token, version, _ = found
        if self._rights is None or version != self._rights.version:
            await self._reload(version)
        return token

    def verify_sync(self, jwt: Any) -> tuple[AuthToken, Any]:
        """:meth:`verify` for sync code already in a thread that may use the ORM (DRF views).

        Returns the token and its Django user.
        """
        # Here, not at the top: the store imports the models, which cannot be imported before
        # Django's apps are ready, and an application (with its Security) may be built earlier.
        from kuzzle_events.security import store

        payload = decode(self.secret, jwt)
        try:
            found = store.lookup(jwt, payload["_id"])
        except DatabaseError as error:
            raise errors.from_exception(error) from error
        if found is None:
            raise errors.get("security.token.invalid")
        token, _, django_user = found
        return token, django_user

    # The funnel's authorization step ------------------------------------------------------------

    def authorize(self, request: KuzzleRequest, act: ActionDef) -> Awaitable[None] | None:
        """Raise the 401/403 error if the caller may not run ``act``; awaitable only when I/O is needed."""
        context = request.context
        connection = context.connection
        unverified = False
        # ("cookieAuth" tested first: wants_cookie is a call, and few requests have the argument.)
        if "cookieAuth" in request.input.args and not self._app.config.COOKIE_AUTHENTICATION and wants_cookie(request):
            raise errors.get("security.cookie.unsupported")
        if connection.protocol == "http" and "cookie" in connection.misc.get("headers", ()):
            unverified = self._read_cookie(request, act)
        jwt = request.input.jwt
        if jwt and context.token is None and (act.controller, act.name) not in _TOKENLESS:
            return self._authenticate_and_check(request, act, tolerant=unverified)
        if not context.check_rights and context.token is None:
            return None
        rights = self._rights
        if rights is None or self._generation != LocalChanges.count:
            return self._refresh_and_check(request, act)
        if time.monotonic() >= self._fresh_until:
            # Only another process's changes can be missing: decide with the rights in hand while
            # they are reloaded in the background (they are at most SECURITY_CACHE_TTL old).
            self._refresh()
        if not _allowed(rights, request, act):
            self._refuse(request, act)
        return None

    def may_trace(self, request: KuzzleRequest) -> bool:
        """Whether the caller of a finished request may see its trace: the ``server:trace`` right
        (a pseudo-action, granted as any action: admins have it, the base roles not). The server's
        own requests may."""
        context = request.context
        if not context.check_rights and context.token is None:
            return True
        rights = self._rights
        return rights is not None and rights.allows(context.user.profile_ids, *TRACE_RIGHT)

    def _read_cookie(self, request: KuzzleRequest, act: ActionDef) -> bool:
        """Kuzzle's cookie authentication: the ``authToken`` cookie stands for the request's token.

        True when a stale token is to be ignored rather than refused: ``auth:logout`` with
        ``cookieAuth`` must clear the cookie even when its token no longer holds.
        """
        jwt = cookie_token(request.context.connection.misc["headers"])
        if jwt is None:
            return False
        if not self._app.config.COOKIE_AUTHENTICATION:
            raise errors.get("security.cookie.unsupported")
        if request.input.jwt:
            raise errors.get(
                "security.token.verification_error",
                "Both token and cookie are present, could not decide which one to use",
            )
        request.input.jwt = jwt
        return act.controller == "auth" and act.name == "logout" and wants_cookie(request)

    async def _authenticate_and_check(self, request: KuzzleRequest, act: ActionDef, tolerant: bool = False) -> None:
        try:
            token = await self.verify(request.input.jwt)
        except errors.KuzzleError as error:
            if not tolerant or error.status != 401:
                raise
            # A stale cookie: the request goes on as anonymous.
            request.input.jwt = None
        else:
            request.context.token = token
            request.context.user = token.user or ANONYMOUS
        if not self._is_fresh():
            await self._refresh()
        self._check(request, act)

    async def _refresh_and_check(self, request: KuzzleRequest, act: ActionDef) -> None:
        await self._refresh()
        self._check(request, act)

    def _check(self, request: KuzzleRequest, act: ActionDef) -> None:
        rights = self._rights
        assert rights is not None
        if not _allowed(rights, request, act):
            self._refuse(request, act)

    def _refuse(self, request: KuzzleRequest, act: ActionDef) -> None:
        user = request.context.user
        if user.id == ANONYMOUS.id:
            raise errors.get("security.rights.unauthorized", act.controller, act.name)
        raise errors.get("security.rights.forbidden", act.controller, act.name, user.id)


def _allowed(rights: Rights, request: KuzzleRequest, act: ActionDef) -> bool:
    profile_ids = request.context.user.profile_ids
    if rights.restrictions:
        # Some policies are restricted to indexes: where the request acts matters.
        args = request.input.args
        if args.get("targets"):
            return _targets_allowed(rights, profile_ids, request, act)
        return rights.allows(profile_ids, act.controller, act.name, args.get("index"), args.get("collection"))
    return rights.allows(profile_ids, act.controller, act.name)


def _targets_allowed(rights: Rights, profile_ids: Sequence[str], request: KuzzleRequest, act: ActionDef) -> bool:
    """A request on ``targets`` (a multi-target search): as Kuzzle, each of its collections must be
    allowed; a target without an index or collections is left to the action, which refuses it."""
    try:
        targets = request.get_array("targets")
    except errors.KuzzleError:
        targets = []
    if not rights.allows(profile_ids, act.controller, act.name):
        return False
    return all(
        rights.allows(profile_ids, act.controller, act.name, target["index"], collection)
        for target in targets
        if isinstance(target, dict) and target.get("index") and isinstance(target.get("collections"), list)
        for collection in target["collections"]
    )
