"""Per-handler figures: calls, errors, slow warnings, mean and p99 duration."""

from __future__ import annotations

import asyncio

import pytest

from kuzzle_events import Application, KuzzleRequest
from kuzzle_events.core.stats import SAMPLE_EVERY
from kuzzle_events.errors import ForbiddenError, KuzzleError


async def test_action_pipe_and_hook_figures(make_app) -> None:
    app: Application = make_app(PIPE_WARN_TIME=5)

    async def buy(request: KuzzleRequest) -> str:
        if request.input.args.get("fail"):
            raise ForbiddenError("no")
        return "ok"

    async def fast(request: KuzzleRequest) -> KuzzleRequest:
        return request

    async def slow(request: KuzzleRequest) -> KuzzleRequest:
        if request.input.args.get("slow"):
            await asyncio.sleep(0.02)
        return request

    async def picky(request: KuzzleRequest) -> KuzzleRequest:
        if request.input.args.get("refuse"):
            raise ValueError("refused")
        return request

    async def audit(request: KuzzleRequest) -> None:
        if request.input.args.get("fail_hook"):
            raise RuntimeError("hook failed")

    app.controller.register("shop", {"actions": {"buy": {"handler": buy}}})
    app.pipe.register("shop:beforeBuy", fast)
    app.pipe.register("shop:beforeBuy", slow)
    app.pipe.register("shop:beforeBuy", picky)
    app.hook.register("shop:afterBuy", audit)
    app.hook.register("hook:onError", lambda *args: None)
    await app.start()
    runs = SAMPLE_EVERY * 2
    for _ in range(runs):
        await app.sdk.query({"controller": "shop", "action": "buy"})
    await app.sdk.query({"controller": "shop", "action": "buy", "slow": True})
    await app.sdk.query({"controller": "shop", "action": "buy", "slow": True})
    with pytest.raises(ForbiddenError):
        await app.sdk.query({"controller": "shop", "action": "buy", "fail": True})
    with pytest.raises(KuzzleError) as refused:
        await app.sdk.query({"controller": "shop", "action": "buy", "refuse": True})
    assert refused.value.id == "plugin.runtime.unexpected_error"
    await app.sdk.query({"controller": "shop", "action": "buy", "fail_hook": True})
    await app.events.drain_hooks()

    stats = app.stats()
    action = stats["actions"]["shop:buy"]
    assert action["calls"] == runs + 4  # the refused one never reached the handler
    assert action["errors"] == 1
    assert action["mean_ms"] is not None and action["p99_ms"] >= action["mean_ms"]
    fast_s, slow_s, picky_s = stats["events"]["shop:beforeBuy"]["pipes"]
    assert [p["calls"] for p in (fast_s, slow_s, picky_s)] == [runs + 5] * 3
    assert picky_s["errors"] == 1 and fast_s["errors"] == 0 and slow_s["errors"] == 0
    assert slow_s["slow_warnings"] >= 1 and fast_s["slow_warnings"] == 0
    assert fast_s["samples"] >= 2  # sampled runs are timed pipe by pipe
    [hook] = stats["events"]["shop:afterBuy"]["hooks"]
    assert hook["calls"] == runs + 3 and hook["errors"] == 1 and hook["samples"] == runs + 3


async def test_calls_survive_a_new_registration(started: Application) -> None:
    async def tag(request: KuzzleRequest) -> KuzzleRequest:
        return request

    started.pipe.register("server:afterNow", tag)
    for _ in range(3):
        await started.sdk.query({"controller": "server", "action": "now"})
    started.pipe.register("server:afterInfo", tag)  # clears the chain cache
    await started.sdk.query({"controller": "server", "action": "now"})
    [pipe] = started.stats()["events"]["server:afterNow"]["pipes"]
    assert pipe["calls"] == 4
