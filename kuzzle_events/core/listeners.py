"""Listeners (pipes and hooks) and their order, decided once at registration.

A listener records what dispatch must not ask again: its function as a coroutine function
(``call``), its warning threshold and its figures. A :class:`ListenerTable` keeps the listeners of
each registered name sorted by priority, then registration order. No Django import.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Container, Coroutine, Iterable
from typing import Any

from kuzzle_events.core.stats import HandlerStats

__all__ = ["Call", "Listener", "ListenerTable", "Vocabulary", "event_variants", "qualified_name"]

Call = Callable[..., Coroutine[Any, Any, Any]]  # a pipe or hook as the loops call it


class Listener:
    """One pipe or hook: its function and what was decided about it at registration."""

    __slots__ = ("id", "event", "fn", "is_async", "call", "priority", "seq", "owner", "warn", "name", "stats")

    def __init__(
        self,
        id: str,
        event: str,
        fn: Callable[..., Any],
        is_async: bool,
        priority: int,
        seq: int,
        owner: str,
        warn: float,
        name: str,
    ) -> None:
        self.id = id
        self.event = event  # the name it was registered on, wildcard included
        self.fn = fn
        self.is_async = is_async
        # The loops only await: a function that runs on the loop is awaited through a coroutine.
        self.call: Call = fn if is_async else _awaitable(fn)
        self.priority = priority
        self.seq = seq
        self.owner = owner
        self.warn = warn if warn > 0 else math.inf  # seconds; inf = never warn
        self.name = name
        self.stats = HandlerStats()

    @property
    def kind(self) -> str:
        """``"pipe"`` or ``"hook"`` (its id says which)."""
        return self.id.partition("-")[0]

    @property
    def sort_key(self) -> tuple[int, int]:
        return (-self.priority, self.seq)

    def __repr__(self) -> str:
        return f"<Listener {self.name} on {self.event!r} ({self.owner}, priority {self.priority})>"


def _awaitable(fn: Callable[..., Any]) -> Call:
    async def call(*args: Any) -> Any:
        return fn(*args)

    return call


class ListenerTable:
    """The listeners of one kind (pipes, or hooks) by the name they were registered on, in order."""

    def __init__(self) -> None:
        self._by_name: dict[str, list[Listener]] = {}
        self._by_id: dict[str, Listener] = {}

    def add(self, listener: Listener) -> None:
        """Insert ``listener`` at its place: higher priority first, then earlier registration."""
        bisect.insort(self._by_name.setdefault(listener.event, []), listener, key=_sort_key)
        self._by_id[listener.id] = listener

    def pop(self, listener_id: str) -> Listener | None:
        """Remove and return the listener with this id (None if there is none)."""
        listener = self._by_id.pop(listener_id, None)
        if listener is not None:
            listeners = self._by_name[listener.event]
            listeners.remove(listener)
            if not listeners:
                del self._by_name[listener.event]
        return listener

    def collect(self, names: Iterable[str]) -> tuple[Listener, ...]:
        """The listeners of each of ``names`` in turn, each name's in their order."""
        by_name = self._by_name
        return tuple(listener for name in names for listener in by_name.get(name, ()))

    def of(self, name: str) -> list[Listener]:
        """The listeners registered on ``name`` itself (wildcards not expanded)."""
        return list(self._by_name.get(name, ()))

    def names(self) -> set[str]:
        return set(self._by_name)


def _sort_key(listener: Listener) -> tuple[int, int]:
    return listener.sort_key


def qualified_name(fn: Callable[..., Any]) -> str:
    """``module.qualname`` of ``fn`` (through decorators that set ``__wrapped__``)."""
    target = getattr(fn, "__wrapped__", fn)
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__qualname__", None) or repr(target)
    return f"{module}.{name}" if module else name


def event_variants(event: str) -> tuple[str, ...]:
    """The names whose listeners run for ``event``, in order: exact, then wildcards.

    ``server:beforeNow`` -> ``server:beforeNow``, ``server:before*``, ``server:*``.
    The scope is everything before the last colon; a name without colon has no variants.
    """
    scope, sep, name = event.rpartition(":")
    if not sep:
        return (event,)
    names = [event]
    for prefix in ("before", "after", "error"):
        if name.startswith(prefix):
            names.append(f"{scope}:{prefix}*")
    names.append(f"{scope}:*")
    return tuple(dict.fromkeys(names))


class Vocabulary:
    """The names listeners are registered on, to tell at once that an event has none: not one
    of them, and no wildcard of its scope (``scope:*``, ``scope:before*``...).

    ``names`` and ``wild`` (the scopes with a wildcard) are plain sets, so that the hot path asks
    ``event in names`` without a call (:meth:`EventEngine.is_quiet`). After a change they stand
    for "unread": any name may listen until :meth:`may_listen` reads them again.
    """

    __slots__ = ("_tables", "names", "wild")

    def __init__(self, *tables: ListenerTable) -> None:
        self._tables = tables
        self.names: Container[str] = _UNREAD
        self.wild: Container[str] = _UNREAD

    def forget(self) -> None:
        """Listeners changed: read the names again at the next question."""
        self.names = self.wild = _UNREAD

    def may_listen(self, event: str) -> bool:
        """Whether ``event`` may have listeners (False: it has none, for sure)."""
        if self.names is _UNREAD:
            names = frozenset(name for table in self._tables for name in table.names())
            self.names = names
            self.wild = frozenset(name.rpartition(":")[0] for name in names if name.endswith("*"))
        return event in self.names or (bool(self.wild) and event.rpartition(":")[0] in self.wild)


class _Unread:
    """The names not read yet: every name may have listeners."""

    __slots__ = ()

    def __contains__(self, event: object) -> bool:
        return True

    def __bool__(self) -> bool:
        return True


_UNREAD = _Unread()
