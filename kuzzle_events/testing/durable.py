"""Durable hooks run inline, so that a test sees their effects without waiting for the runner."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["run_durable_hooks"]


async def run_durable_hooks(app: Application, *, ignore_backoff: bool = False) -> int:
    """Run the pending deliveries of ``app``'s durable hooks now, until none is due; how many
    tries ran here.

    Retries coming due meanwhile run too (a ``backoff=0`` hook is tried until it succeeds or fails
    for good); ``ignore_backoff=True`` runs the ones waiting for a later retry as well. What the
    application's own runner is running is waited for, so that once this returns, every due
    delivery has been tried.
    """
    inline = app.durable.new_runner()
    tries = 0
    while True:
        background = app.durable.runner
        while background is not None and background.busy:
            await asyncio.sleep(0.005)  # the background runner's hooks: let them end
        taken = await inline.run_due(ignore_due=ignore_backoff)
        tries += taken
        if not taken and (background is None or not background.busy):
            return tries
