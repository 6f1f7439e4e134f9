"""``app.sdk``: Kuzzle's embedded SDK, API actions executed from the server's own code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.api.service import Service
from kuzzle_events.core.request import NOBODY, Connection, KuzzleRequest, User
from kuzzle_events.sdk_realtime import EmbeddedRealtime

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.response import KuzzleResponse

__all__ = ["EmbeddedSDK", "ImpersonatedSDK"]


_accounts = Service("kuzzle_events.security.accounts")


class EmbeddedSDK:
    """``app.sdk``: execute API actions from code, through the funnel."""

    def __init__(self, app: Application) -> None:
        self._app = app
        self.realtime = EmbeddedRealtime(self)
        """Realtime subscriptions of the server's own code (``subscribe(index, collection, filters, callback)``)."""

    async def query(
        self,
        request: Mapping[str, Any],
        *,
        user: User | None = None,
        trigger_events: bool = True,
        check_rights: bool = False,
    ) -> dict[str, Any]:
        """Execute ``request`` (``{"controller", "action", ...}``) and return its envelope.

        It serves from the start of the application on, plugins' ``init`` included (as Kuzzle's).
        As in Kuzzle, code of the server is trusted: rights are checked only with ``check_rights``
        (for ``user``, anonymous by default) or when the request carries a ``jwt``.
        A failed action raises its :class:`~kuzzle_events.errors.KuzzleError`. Like Kuzzle's
        ``executePluginRequest``, the query is not held back by ``MAX_CONCURRENT_REQUESTS``.
        """
        app = self._app
        if app.state != "running":
            app._require_started("sdk", starting=True)
        # (KuzzleRequest copies what it keeps of the mapping: a dict needs no copy of its own.)
        data = request if type(request) is dict else dict(request)
        kuzzle_request = KuzzleRequest(data, connection=Connection(protocol="internal"), user=user or NOBODY)
        kuzzle_request.context.check_rights = check_rights
        # execute() written out (one coroutine less per query), with the response checked rather
        # than sealed: only its dict is read (tests/test_sdk_fast_path.py holds both to one result).
        given = kuzzle_request.input
        nesting = app.nesting
        token = nesting.enter(f"{given._controller}:{given._action}")  # (fields: no property calls)
        try:
            response = await (app._funnel or app.funnel).execute(kuzzle_request, trigger_events, False, False)
        finally:
            nesting.leave(token)
        if kuzzle_request.error is not None:
            raise kuzzle_request.error
        return response.to_dict()

    async def execute(self, request: KuzzleRequest, *, trigger_events: bool = True) -> KuzzleResponse:
        """Run a request of the server's own code through the funnel: not held back by
        ``MAX_CONCURRENT_REQUESTS``, and, run from a listener, a nested trigger
        (``MAX_TRIGGER_DEPTH``)."""
        nesting = self._app.nesting
        token = nesting.enter(f"{request.input.controller}:{request.input.action}")
        try:
            return await self._app.funnel.execute(request, trigger_events=trigger_events, throttle=False)
        finally:
            nesting.leave(token)

    def as_(self, user: Mapping[str, Any], *, check_rights: bool = False) -> ImpersonatedSDK:
        """The SDK acting as ``user`` (``{"_id": kuid}``): Kuzzle's ``sdk.as(user, {checkRights})``,
        named ``as_`` because ``as`` is a Python keyword (``getattr(app.sdk, "as")`` is the same).

        Its requests run as that user, loaded from the database at each request
        (``security.user.not_found`` if it does not exist): it is the author of what they write,
        and with ``check_rights`` its rights apply (``security.rights.forbidden`` otherwise).
        """
        kuid = user.get("_id") if isinstance(user, Mapping) else None
        if not isinstance(kuid, str):
            raise errors.get("plugin.context.invalid_user")
        return ImpersonatedSDK(self, kuid, check_rights)


setattr(EmbeddedSDK, "as", EmbeddedSDK.as_)  # noqa: B010 (Kuzzle's name, a keyword in Python)


class ImpersonatedSDK:
    """``app.sdk.as_(user)``: the embedded SDK's queries, run as one user."""

    __slots__ = ("_sdk", "kuid", "check_rights")

    def __init__(self, sdk: EmbeddedSDK, kuid: str, check_rights: bool) -> None:
        self._sdk, self.kuid, self.check_rights = sdk, kuid, check_rights

    async def query(self, request: Mapping[str, Any], *, trigger_events: bool = True) -> dict[str, Any]:
        """As :meth:`EmbeddedSDK.query`, with this SDK's user and rights option."""
        user = await _accounts.request_user(self.kuid)
        return await self._sdk.query(
            request, user=user, trigger_events=trigger_events, check_rights=self.check_rights
        )
