"""What a failed pipe chain raises, and what a failed hook causes.

A pipe chain fails with a Kuzzle error: a pipe's own :class:`~kuzzle_events.errors.KuzzleError` as
it is, a pipe that returned None as ``plugin.runtime.pipe_returned_none``, a pipe past
``PIPE_TIMEOUT`` as ``plugin.runtime.pipe_timeout``, anything else as
``plugin.runtime.unexpected_error``; the pipe responsible has its error count raised. A failed hook
fails nobody: its error goes to the ``hook:onError`` hooks, or to the log when there are none, or
when it was one of them. No Django import.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any, NoReturn

from kuzzle_events import errors
from kuzzle_events.core.listeners import Call, Listener
from kuzzle_events.core.loops import PipeReturnedNone
from kuzzle_events.core.stats import HandlerStats

__all__ = ["HOOK_ON_ERROR", "as_raised", "must_report_hook_failure", "pipe_failure"]

HOOK_ON_ERROR = "hook:onError"


def pipe_failure(
    event: str, pipes: tuple[Listener, ...], calls: tuple[Call, ...], error: Exception, timeout: float
) -> errors.KuzzleError:
    """The error a chain raises when ``error`` interrupted it; ``calls[i]`` called ``pipes[i]``."""
    culprit = _culprit(pipes, calls, error)
    culprit.stats.errors += 1
    if isinstance(error, errors.KuzzleError):
        return error
    if isinstance(error, PipeReturnedNone):
        return errors.get("plugin.runtime.pipe_returned_none", culprit.name, culprit.owner, event)
    if isinstance(error, TimeoutError) and _timed_out(error) is not None:
        return errors.get(
            "plugin.runtime.pipe_timeout", culprit.name, culprit.owner, event, round(timeout * 1000)
        )
    return errors.from_exception(error)


def as_raised(event: str, pipes: tuple[Listener, ...], calls: tuple[Call, ...], error: Exception) -> NoReturn:
    """The failure of a run whose errors are not translated (events without payload): ``error``."""
    raise error


def must_report_hook_failure(
    hook: Listener, event: str, error: BaseException, log: logging.Logger, listened: Callable[[str], bool]
) -> bool:
    """Whether ``hook``'s failure on ``event`` goes to the ``hook:onError`` hooks; logged if not."""
    if event == HOOK_ON_ERROR:
        # A failing error hook fires nothing more, or one bad hook would loop forever.
        log.error('Hook "%s" on "%s" failed: %r', hook.name, event, error, exc_info=error)
        return False
    if not listened(HOOK_ON_ERROR):
        log.error('Hook "%s" of %s on "%s" failed: %r', hook.name, hook.owner, event, error, exc_info=error)
        return False
    return True


class _Nobody:
    """Stands for an unidentified culprit, so that counting errors needs no test."""

    def __init__(self) -> None:
        self.stats = HandlerStats()
        self.name = "unknown"
        self.owner = "unknown"


def _timed_out(error: TimeoutError) -> Listener | None:
    return error.args[0] if error.args and isinstance(error.args[0], Listener) else None


def _code_of(fn: Any) -> Any:
    target = inspect.unwrap(fn)  # through the thread-hop wrapper of plain functions
    target = getattr(target, "__func__", target)
    return getattr(target, "__code__", None)


def _culprit(pipes: tuple[Listener, ...], calls: tuple[Call, ...], error: BaseException) -> Any:
    """The pipe a failure came from: named by the error, or found in its traceback."""
    if isinstance(error, PipeReturnedNone):
        return pipes[calls.index(error.culprit)] if error.culprit in calls else _Nobody()
    if isinstance(error, TimeoutError) and (pipe := _timed_out(error)) is not None:
        return pipe
    codes = set()
    tb = error.__traceback__
    while tb is not None:
        codes.add(tb.tb_frame.f_code)
        tb = tb.tb_next
    return next((p for p in reversed(pipes) if _code_of(p.fn) in codes), None) or _Nobody()
