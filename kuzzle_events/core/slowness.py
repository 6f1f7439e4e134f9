"""The warnings for pipes slower than their ``PIPE_WARN_TIME``: a pipe timed alone, or a chain
timed as a whole (whose pipes are timed one by one from then on). No Django import."""

from __future__ import annotations

import logging

from kuzzle_events.core.listeners import Listener

__all__ = ["warn_slow_chain", "warn_slow_pipe"]


def warn_slow_pipe(log: logging.Logger, pipe: Listener, elapsed: float) -> None:
    """Log that ``pipe`` took ``elapsed`` seconds, past its warn time."""
    log.warning(
        'Slow pipe: "%s" of %s on event "%s" took %d ms (PIPE_WARN_TIME: %d ms)',
        pipe.name,
        pipe.owner,
        pipe.event,
        round(elapsed * 1000),
        round(pipe.warn * 1000),
    )


def warn_slow_chain(log: logging.Logger, event: str, pipes: tuple[Listener, ...], elapsed: float) -> None:
    """Log that the chain of ``pipes`` on ``event`` took ``elapsed`` seconds, past its warn time."""
    log.warning(
        'Slow pipe chain on event "%s": %d ms for %s; its pipes are now timed one by one',
        event,
        round(elapsed * 1000),
        ", ".join(f'"{p.name}" of {p.owner}' for p in pipes),
    )
