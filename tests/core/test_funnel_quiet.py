"""A quiet action's request (nothing listens) runs its handler without the life cycle's events:
the handler's figures, status and errors are those of the full life cycle."""

from __future__ import annotations

from typing import Any

import pytest

from kuzzle_events import Application, KuzzleRequest


async def _made(request: KuzzleRequest) -> Any:
    request.response.status = 201
    return {"made": True}


async def _fails(request: KuzzleRequest) -> Any:
    raise ValueError("no")


async def _odd_status(request: KuzzleRequest) -> Any:
    request.response.status = 404  # not a success status: answered 200 as by _status()
    return 1


@pytest.mark.parametrize("handler", [_made, _fails, _odd_status])
async def test_quiet_and_listened_runs_agree(kapp: Application, handler: Any) -> None:
    kapp.controller.register("probe", {"actions": {"go": {"handler": handler}}})
    await kapp.start()
    act = kapp.controller.controllers["probe"].actions["go"]
    outcomes = []
    for listened in (False, True):
        if listened:

            async def pipe(request: KuzzleRequest) -> KuzzleRequest:
                return request

            kapp.pipe.register("probe:beforeGo", pipe)
        before = (act.stats.calls, act.stats.errors, len(act.stats.samples))
        assert kapp.funnel._is_quiet(act) is not listened
        request = KuzzleRequest({"controller": "probe", "action": "go", "requestId": "r"})
        envelope = (await kapp.funnel.execute(request)).to_dict()
        after = (act.stats.calls, act.stats.errors, len(act.stats.samples))
        outcomes.append((envelope, tuple(b - a for a, b in zip(before, after, strict=True))))
    assert outcomes[0] == outcomes[1]
    await kapp.events.drain_hooks()
