"""How the requests of one connection run: in the task that reads the connection, until one waits.

A reader task reads the connection's messages and handles each there and then; the first reader
is the task serving the connection itself (an idle connection costs no task more). A request that
has to wait keeps that task to its end, and a new reader takes over the connection: each request
runs in one task from its first step to its last, and one that never waits costs no task. When the
connection ends, every task still running for it (waiting requests, other loops, notices) is
cancelled.
"""

from __future__ import annotations

import asyncio
import contextvars
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

__all__ = ["Scheduler"]

Message = dict[str, Any]


class Scheduler:
    """The tasks of one connection: its readers, its waiting requests, its notices.

    ``receive`` reads the connection's next message; ``handle(message)`` returns what handles it,
    awaited by the reader. A task that raises ``stop`` ends the connection cleanly; any other
    exception ends it with that exception.
    """

    __slots__ = ("_receive", "_handle", "_stop", "in_flight", "_reader", "_ended", "_serving", "_interrupted")

    def __init__(
        self,
        receive: Callable[[], Awaitable[Message]],
        handle: Callable[[Message], Awaitable[None]],
        *,
        stop: type[BaseException],
    ) -> None:
        self._receive = receive
        self._handle = handle
        self._stop = stop
        # The connection's tasks but its reader: waiting requests, notices, loops (those started
        # by serve() and start() are watched: one that raises ends the connection).
        self.in_flight: set[asyncio.Task[None]] = set()
        self._reader: asyncio.Task[None] | None = None
        self._ended: asyncio.Future[None] | None = None
        self._serving: asyncio.Task[Any] | None = None  # serve()'s task, while it reads or runs a request
        self._interrupted = False  # serve()'s task was cancelled by the end of the connection

    async def serve(self, *loops: Coroutine[Any, Any, None]) -> None:
        """Read the connection, with ``loops`` running beside the reader, until a task ends it."""
        loop = asyncio.get_running_loop()
        me = asyncio.current_task()
        assert me is not None
        ended = self._ended = loop.create_future()
        for other in loops:
            self._add(self._watch(loop.create_task(other)))
        # This task is the connection's first reader: a connection that never runs a request
        # that waits (an idle one) has no task of ours but this one. Once one waits here, this
        # task goes on with it and a reader task takes over (see _finish); this task then waits
        # for the end. A task that ends the connection meanwhile cancels it (see _task_done).
        self._reader = self._serving = me
        try:
            try:
                await self._read()
                self._serving = None
                await ended
            except asyncio.CancelledError:
                if not self._interrupted or me.uncancel() > 0:  # (cancelled from outside too)
                    raise
                ended.result()  # how another task ended the connection
            except BaseException as error:  # this task, reading, ended it
                self._end(error)
                ended.result()
        finally:
            self._ended = self._serving = None  # (start() runs nothing more)
            tasks = [task for task in (*self.in_flight, self._reader) if task is not None and task is not me]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def start(self, loop_: Coroutine[Any, Any, None]) -> None:
        """Run ``loop_`` beside the reader from now on, as one of :meth:`serve`'s ``loops``: one
        that raises ends the connection, one that returns ends nothing (closed unrun once the
        connection has ended)."""
        if self._ended is None or self._ended.done():
            loop_.close()
            return
        self._add(self._watch(asyncio.get_running_loop().create_task(loop_)))

    def _add(self, task: asyncio.Task[None]) -> None:
        self.in_flight.add(task)
        task.add_done_callback(self.in_flight.discard)

    def spawn(self, coroutine: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run ``coroutine`` as a task of the connection: cancelled if still running at its end."""
        task = asyncio.get_running_loop().create_task(coroutine)
        self._add(task)
        return task

    def run(self, request: Coroutine[Any, Any, None]) -> Awaitable[None] | None:
        """Run a request: here to its end if it never waits (None is returned); else what is
        returned, awaited, goes on with it (its task from first step to last) and a new reader
        takes over the connection."""
        # Its own context, as its own task would have: what it sets stays with it.
        context = contextvars.copy_context()
        try:
            waiting = context.run(request.send, None)
        except StopIteration:
            return None
        return self._finish(request, context, waiting)

    async def _finish(self, request: Coroutine[Any, Any, None], context: contextvars.Context, waiting: Any) -> None:
        task = asyncio.current_task()
        if task is None or task is not self._reader:  # run from elsewhere than the reader: just wait for it
            await _resume(request, context, waiting)
            return
        self.in_flight.add(task)
        self._reader = self._watch(asyncio.get_running_loop().create_task(self._read()))
        try:
            await _resume(request, context, waiting)
        finally:
            self.in_flight.discard(task)

    async def _read(self) -> None:
        """Read and handle the connection's messages, until they end or another reader takes over."""
        me = asyncio.current_task()
        receive, handle = self._receive, self._handle
        while self._reader is me:
            await handle(await receive())

    def _watch(self, task: asyncio.Task[None]) -> asyncio.Task[None]:
        """``task`` (a reader or a loop), whose end is seen by :meth:`_task_done`."""
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        """End the connection when a reader or a loop raised: cleanly on ``stop``, else with the error."""
        # As an exception in a handler ends a stock Channels consumer (and is reported by the server).
        if task.cancelled():
            return
        error = task.exception()
        if error is not None and self._end(error):
            serving = self._serving
            if serving is not None:  # still reading, or running a request: it is cancelled
                self._interrupted = True
                serving.cancel()

    def _end(self, error: BaseException) -> bool:
        """End the connection with ``error`` (cleanly on ``stop``); False if it had ended already."""
        ended = self._ended
        if ended is None or ended.done():
            return False
        if isinstance(error, self._stop):
            ended.set_result(None)
        else:
            ended.set_exception(error)
        return True


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], context: contextvars.Context, waiting: Any) -> Generator[Any, Any, Any]:
    """Await the rest of ``coro``, stopped on ``waiting`` (what its last step yielded), each step in
    ``context``: the task awaiting this drives ``coro`` as if it had run it from its start."""
    step: Callable[[Any], Any]
    while True:
        try:
            sent = yield waiting
        except GeneratorExit:
            coro.close()
            raise
        except BaseException as error:  # thrown in by the task (cancellation...): pass it on
            step, value = coro.throw, error
        else:
            step, value = coro.send, sent
        try:
            waiting = context.run(step, value)
        except StopIteration as done:
            return done.value
