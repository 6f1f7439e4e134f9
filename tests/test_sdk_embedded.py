"""``app.sdk``: API actions executed from the server's own code, through the funnel."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.errors import KuzzleError
from tests.accounts import make_user


async def test_query_returns_the_envelope(started: Application) -> None:
    envelope = await started.sdk.query({"controller": "server", "action": "now", "requestId": "r1"})
    assert (envelope["status"], envelope["requestId"], envelope["error"]) == (200, "r1", None)
    assert isinstance(envelope["result"]["now"], int)


async def test_a_failed_action_raises_its_error(started: Application) -> None:
    with pytest.raises(KuzzleError) as failure:
        await started.sdk.query({"controller": "nope", "action": "now"})
    assert failure.value.id == "api.process.controller_not_found"


async def test_server_code_is_trusted_unless_rights_are_asked_for(started: Application) -> None:
    await sync_to_async(make_user)("root", superuser=True)  # from now on, anonymous callers are restricted
    started.security.invalidate()
    request = {"controller": "security", "action": "searchUsers", "body": {}}
    assert (await started.sdk.query(request))["status"] == 200
    with pytest.raises(KuzzleError) as refused:
        await started.sdk.query(request, check_rights=True)
    assert refused.value.status == 401


async def test_without_events_no_pipe_runs(kapp: Application) -> None:
    seen: list[str] = []

    async def pipe(request: KuzzleRequest) -> Any:
        seen.append(request.input.action)
        return request

    kapp.pipe.register("server:beforeNow", pipe)
    await kapp.start()
    await kapp.sdk.query({"controller": "server", "action": "now"}, trigger_events=False)
    await kapp.sdk.query({"controller": "server", "action": "now"})
    assert seen == ["now"]
    await kapp.events.drain_hooks()
