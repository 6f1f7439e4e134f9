"""Every event an application fires, recorded with its payload, for assertions."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["EventLog", "Fired", "capture_events"]


@dataclass(frozen=True)
class Fired:
    """One event fired: its name and the arguments it was fired with."""

    name: str
    args: tuple[Any, ...]

    @property
    def payload(self) -> Any:
        """The first argument (None for an event without payload)."""
        return self.args[0] if self.args else None


class EventLog(list[Fired]):
    """The events fired, in order. Patterns are shell-style: ``document:*``, ``*:before*``."""

    def named(self, pattern: str = "*") -> list[Fired]:
        """The events whose name matches ``pattern``."""
        return [fired for fired in self if fnmatch.fnmatchcase(fired.name, pattern)]

    def names(self, pattern: str = "*") -> list[str]:
        """The names of the events matching ``pattern``, in order."""
        return [fired.name for fired in self.named(pattern)]

    def payloads(self, pattern: str = "*") -> list[Any]:
        """The payloads of the events matching ``pattern``, in order."""
        return [fired.payload for fired in self.named(pattern)]

    def __contains__(self, pattern: object) -> bool:
        """``"document:beforeCreate" in events``: whether a matching event was fired."""
        if isinstance(pattern, str):
            return bool(self.named(pattern))
        return super().__contains__(pattern)


@contextmanager
def capture_events(app: Application) -> Iterator[EventLog]:
    """Record every event ``app`` fires during the block, listened to or not.

    While recording, requests go through their whole life cycle (the funnel skips no event), as
    when ``KUZZLE_DEBUG`` traces events; outside the block nothing is recorded and nothing costs.
    """
    log = EventLog()

    def record(event: str, args: tuple[Any, ...]) -> None:
        log.append(Fired(event, args))

    stop = app.events.observe(record)
    try:
        yield log
    finally:
        stop()
