"""What a failed pipe chain raises, who is counted for it, and where a hook's failure goes."""

from __future__ import annotations

import logging

import pytest

from kuzzle_events.core.failures import HOOK_ON_ERROR, as_raised, must_report_hook_failure, pipe_failure
from kuzzle_events.core.listeners import Listener
from kuzzle_events.core.loops import PipeReturnedNone
from kuzzle_events.errors import ForbiddenError, KuzzleError


def first(payload):
    return payload


def second(payload):
    raise ValueError("boom")


def pipe(fn, seq: int) -> Listener:
    return Listener(f"pipe-{seq}", "my-app:thing", fn, False, 0, seq, "my-app", 0.5, fn.__name__)


PIPES = (pipe(first, 0), pipe(second, 1))
CALLS = tuple(p.call for p in PIPES)


def raised_by(fn, *args) -> Exception:
    try:
        fn(*args)
    except Exception as error:
        return error
    raise AssertionError("did not raise")


def test_unexpected_error_is_wrapped_and_counted_on_the_pipe_in_its_traceback() -> None:
    error = raised_by(second, {})
    failure = pipe_failure("my-app:thing", PIPES, CALLS, error, 0)
    assert failure.id == "plugin.runtime.unexpected_error"
    assert failure.__cause__ is error
    assert (PIPES[0].stats.errors, PIPES[1].stats.errors) == (0, 1)


def test_kuzzle_error_passes_through() -> None:
    error = ForbiddenError("nope")
    assert pipe_failure("my-app:thing", PIPES, CALLS, error, 0) is error


def test_pipe_returned_none_names_the_pipe_of_the_call() -> None:
    a, b = pipe(first, 10), pipe(first, 11)  # the same function twice: the call tells them apart
    failure = pipe_failure("my-app:thing", (a, b), (a.call, b.call), PipeReturnedNone(b.call), 0)
    assert failure.id == "plugin.runtime.pipe_returned_none"
    assert (a.stats.errors, b.stats.errors) == (0, 1)


def test_timeout_names_the_pipe_and_the_limit() -> None:
    failure = pipe_failure("my-app:thing", PIPES, CALLS, TimeoutError(PIPES[0]), 0.03)
    assert failure.id == "plugin.runtime.pipe_timeout" and failure.status == 504
    assert "first" in failure.message and "30" in failure.message


def test_a_pipe_own_timeout_error_is_an_unexpected_error() -> None:
    failure = pipe_failure("my-app:thing", PIPES, CALLS, TimeoutError("upstream"), 0.03)
    assert failure.id == "plugin.runtime.unexpected_error"


def test_an_unidentified_culprit_is_not_a_failure_of_its_own() -> None:
    failure = pipe_failure("my-app:thing", PIPES, CALLS, RuntimeError("from nowhere"), 0)
    assert isinstance(failure, KuzzleError)


def test_as_raised_raises_the_error_itself() -> None:
    error = ValueError("as is")
    with pytest.raises(ValueError) as caught:
        as_raised("kuzzle:state:start", PIPES, CALLS, error)
    assert caught.value is error


def test_hook_failure_goes_to_on_error_hooks_or_to_the_log(caplog) -> None:
    log = logging.getLogger("kuzzle_events.tests")
    hook = PIPES[0]
    error = RuntimeError("hook failed")
    with caplog.at_level(logging.ERROR, logger="kuzzle_events.tests"):
        assert must_report_hook_failure(hook, "my-app:thing", error, log, lambda name: True)
        assert not caplog.records
        assert not must_report_hook_failure(hook, "my-app:thing", error, log, lambda name: False)
        assert not must_report_hook_failure(hook, HOOK_ON_ERROR, error, log, lambda name: True)
    assert len(caplog.records) == 2 and all(r.exc_info for r in caplog.records)
