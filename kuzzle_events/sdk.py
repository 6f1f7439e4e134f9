"""``app.sdk``: Kuzzle's embedded SDK, API actions executed from the server's own code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from kuzzle_events.core.request import ANONYMOUS, Connection, KuzzleRequest, User

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.response import KuzzleResponse

__all__ = ["EmbeddedSDK"]


class EmbeddedSDK:
    """``app.sdk``: execute API actions from code, through the funnel."""

    def __init__(self, app: Application) -> None:
        self._app = app

    async def query(
        self,
        request: Mapping[str, Any],
        *,
        user: User | None = None,
        trigger_events: bool = True,
        check_rights: bool = False,
    ) -> dict[str, Any]:
        """Execute ``request`` (``{"controller", "action", ...}``) and return its envelope.

        As in Kuzzle, code of the server is trusted: rights are checked only with ``check_rights``
        (for ``user``, anonymous by default) or when the request carries a ``jwt``.
        A failed action raises its :class:`~kuzzle_events.errors.KuzzleError`. Like Kuzzle's
        ``executePluginRequest``, the query is not held back by ``MAX_CONCURRENT_REQUESTS``.
        """
        app = self._app
        if app.state != "running":
            app._require_started("sdk")
        # (KuzzleRequest copies what it keeps of the mapping: a dict needs no copy of its own.)
        data = request if type(request) is dict else dict(request)
        kuzzle_request = KuzzleRequest(data, connection=Connection(protocol="internal"), user=user or ANONYMOUS)
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
