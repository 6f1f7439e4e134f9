"""The in-process runner: deliveries run side by side, a slow hook holds one place only, and the
application's shutdown waits for the hooks running."""

from __future__ import annotations

import asyncio

from kuzzle_events import Application
from kuzzle_events.models import Delivery
from kuzzle_events.orm import in_sync_thread
from kuzzle_events.testing import started_app


async def test_a_slow_hook_does_not_hold_the_others_and_shutdown_waits_for_it() -> None:
    release, slow_started, fast_done = asyncio.Event(), asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    async def slow(order: str, *, delivery_id: str) -> None:
        slow_started.set()
        await release.wait()
        finished.append(order)

    async def fast(order: str, *, delivery_id: str) -> None:
        finished.append(order)
        fast_done.set()

    def setup(app: Application) -> None:
        app.hook.register("shop:slow", slow, durable=True)
        app.hook.register("shop:fast", fast, durable=True)

    async with started_app(setup, plugins=False, DURABLE_BATCH=2) as app:
        await app.trigger("shop:slow", "slow")
        await asyncio.wait_for(slow_started.wait(), 30)
        await app.trigger("shop:fast", "fast")
        await asyncio.wait_for(fast_done.wait(), 30)  # while the slow one still runs
        assert finished == ["fast"]
        asyncio.get_running_loop().call_later(0.1, release.set)
    # The block's end shut the application down, which waited for the slow hook to end.
    assert finished == ["fast", "slow"]
    assert await in_sync_thread(Delivery.objects.count)() == 0
