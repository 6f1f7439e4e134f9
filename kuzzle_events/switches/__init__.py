"""``app.switches``: pipes and hooks switched off and on at run time, for every server process.

A switch names a listener by its kind (pipe or hook), the event it is registered on and its
qualified name; it is stored in the database (:mod:`kuzzle_events.switches.store`) with who set it
and when. Each process reads the switches at start, at once when it sets one itself, and, while it
is served (ASGI lifespan), checks a counter every ``SWITCHES_POLL_INTERVAL`` seconds. Applying them
hands the engine the listeners to leave out (:meth:`EventEngine.switch_off`), which resolves the
chains anew: the per-event path stays what it is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from kuzzle_events import errors
from kuzzle_events.orm import orm

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["KINDS", "PERMISSION", "Switches", "UnknownListener", "check_listener_exists"]

KINDS = ("pipe", "hook")
PERMISSION = "kuzzle_events.switch_listener"  # the Django permission the admin's switch requires
Key = tuple[str, str, str]


class UnknownListener(LookupError):
    """No pipe or hook of that kind and name is registered on that event."""


def check_listener_exists(app: Application, kind: str, event: str, name: str) -> None:
    """Raise :class:`UnknownListener`, naming what is registered, unless the application has a
    ``kind`` listener called ``name`` registered on ``event`` itself (wildcards as written)."""
    if kind not in KINDS:
        raise UnknownListener(f"Unknown kind {kind!r}: choose pipe or hook.")
    pipes, hooks = app.events.registered().get(event, ([], []))
    names = sorted({listener.name for listener in (pipes if kind == "pipe" else hooks)})
    if name not in names:
        there = ", ".join(names) if names else "none"
        raise UnknownListener(f"No {kind} {name!r} is registered on {event!r} ({kind}s registered there: {there}).")


class Switches:
    """The switches of one application, as last read from the database."""

    def __init__(self, app: Application) -> None:
        self._app = app
        self.version: int | None = None
        # (kind, event, name) -> {"enabled", "changed_by", "changed_at"}: every switch ever set.
        self.records: dict[Key, dict[str, Any]] = {}
        self._orm: dict[str, Callable[..., Awaitable[Any]]] = {}
        self._watcher: asyncio.Task[None] | None = None

    def _store(self, name: str) -> Callable[..., Awaitable[Any]]:
        fn = self._orm.get(name)
        if fn is None:
            fn = self._orm[name] = orm("kuzzle_events.switches.store", name)
        return fn

    async def load(self) -> bool:
        """Read the switches if they changed since the last read and apply them; whether they had."""
        loaded = await self._store("load")(self.version)
        if loaded is None:
            return False
        version, records = loaded
        self.version, self.records = version, records
        self._app.events.switch_off(key for key, record in records.items() if not record["enabled"])
        return True

    def record(self, kind: str, event: str, name: str) -> dict[str, Any] | None:
        """Who switched this listener last, when, and whether it is on (``None``: never switched)."""
        return self.records.get((kind, event, name))

    async def set(self, kind: str, event: str, name: str, *, enabled: bool, changed_by: str) -> dict[str, Any]:
        """Switch a registered listener off (``enabled=False``) or on, for every process; the record.

        :class:`UnknownListener` if the application has no such listener.
        """
        check_listener_exists(self._app, kind, event, name)
        saved: dict[str, Any] = await self._store("save")(kind, event, name, enabled, changed_by)
        await self.load()
        self._app.log.info(
            "kuzzle_events: %s %s on %s switched %s by %s", kind, name, event, "on" if enabled else "off", changed_by
        )
        return saved

    # Watching other processes' switches --------------------------------------------------------

    def watch(self) -> None:
        """Check for other processes' switches every ``SWITCHES_POLL_INTERVAL`` seconds, on this
        loop, until :meth:`stop` (nothing if the interval is 0)."""
        interval = float(self._app.config.SWITCHES_POLL_INTERVAL)
        if interval <= 0 or (self._watcher is not None and not self._watcher.done()):
            return
        self._watcher = asyncio.get_running_loop().create_task(self._poll(interval))

    async def _poll(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.load()
            except errors.KuzzleError as error:  # the database is away: try again at the next tick
                self._app.log.warning("kuzzle_events: reading the listener switches failed: %s", error)

    async def stop(self) -> None:
        """Stop watching (at shutdown)."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
