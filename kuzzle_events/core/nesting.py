"""Nested triggers: what listeners set off, counted along each chain of causes. No Django import.

A pipe or hook that fires an event (``app.trigger``) or runs an action (``app.sdk.query``) nests
that trigger inside the one it runs on; a hook's task inherits the chain of the trigger that started
it. Past ``MAX_TRIGGER_DEPTH`` nested triggers the next one fails, naming the chain, instead of
recursing until the stack or the memory runs out. Requests from clients start with an empty chain,
and the engine's own triggers are not counted: a request that fires no listener-made trigger pays
nothing.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

from kuzzle_events import errors

__all__ = ["DEFAULT_DEPTH", "Nesting"]

DEFAULT_DEPTH = 16

# The triggers the running code is nested in, innermost first, as linked nodes
# ``(depth, name, outer node)``: entering one more builds one small tuple, whatever the depth.
_Node = tuple[int, str, "_Node | None"]
_CHAIN: ContextVar[_Node | None] = ContextVar("kuzzle_events_nested_triggers", default=None)


class Nesting:
    """The limit on nested triggers of one application."""

    __slots__ = ("limit",)

    def __init__(self, limit: int = DEFAULT_DEPTH) -> None:
        self.limit = limit

    def enter(self, name: str) -> Token[_Node | None]:
        """Count one more nested trigger, ``name``; ``plugin.runtime.unexpected_error`` past the limit.

        Give the token back to :meth:`leave` when the trigger is done.
        """
        node = _CHAIN.get()
        if node is None:
            return _CHAIN.set((1, name, None))
        depth = node[0]
        if depth >= self.limit:
            shown = " -> ".join((*_names(node), name))
            raise errors.get(
                "plugin.runtime.unexpected_error",
                f'"{name}" would be nested {depth + 1} triggers deep, past MAX_TRIGGER_DEPTH '
                f"({self.limit}): a listener triggers what makes it run again? Chain: {shown}",
            )
        return _CHAIN.set((depth + 1, name, node))

    # (The ContextVar's own method: no Python frame of ours on every trigger.)
    leave = staticmethod(_CHAIN.reset)

    @staticmethod
    def chain() -> tuple[str, ...]:
        """The triggers the running code is nested in, outermost first."""
        return _names(_CHAIN.get())


def _names(node: _Node | None) -> tuple[str, ...]:
    names = []
    while node is not None:
        names.append(node[1])
        node = node[2]
    return tuple(reversed(names))
