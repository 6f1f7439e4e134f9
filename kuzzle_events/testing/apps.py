"""Isolated applications for tests, started and stopped around a block."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from kuzzle_events.application import Application

__all__ = ["started_app", "wait_for_hooks"]


@asynccontextmanager
async def started_app(
    setup: Callable[[Application], Any] | None = None, *, plugins: bool = True, **settings: Any
) -> AsyncIterator[Application]:
    """A new application of its own (``settings`` over ``KUZZLE_EVENTS``), started for the block.

    As ``AppConfig.ready()`` does, it takes the plugins of its settings (``PLUGINS``) and the
    installed ones (entry points) but ``DISABLED_PLUGINS``; ``plugins=False``: none.
    ``setup(app)`` runs before the start: register controllers, pipes and hooks there. At the end
    of the block the hooks still running are awaited, then the application shuts down.
    """
    app = Application(config=settings)
    if plugins:
        app.plugin.use_settings(app.config.PLUGINS, app.config.DISABLED_PLUGINS)
    if setup is not None:
        setup(app)
    await app.start()
    try:
        yield app
    finally:
        await wait_for_hooks(app)
        await app.shutdown()


async def wait_for_hooks(app: Application) -> None:
    """Wait until every hook started so far, and every hook those started, has finished."""
    await app.events.drain_hooks()
