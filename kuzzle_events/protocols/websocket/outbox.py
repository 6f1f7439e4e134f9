"""What one WebSocket is sent: its texts in order, and no sender ever waits for the peer.

A text is written there and then when the server takes it at once, which is the usual case. When
the server makes a write wait (its buffer to a peer that reads too slowly is full), the rest of
that write goes on in the connection's writer (:meth:`Outbox.run`) and the texts that follow wait
behind it, in order, in a backlog of at most ``limit`` texts. One more text while the backlog is
full means the peer is too slow: the backlog is dropped and the writer returns, for the
connection to be closed. This is how Kuzzle treats a WebSocket whose backpressure buffer is past
its bound (its ``WS_BACKPRESSURE_BUFFER_MAX_LENGTH``, 50 messages). Whoever sends a text, the
connection's own requests or a publisher notifying every subscriber, it returns at once.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import types
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import Any

__all__ = ["CLOSE_TIMEOUT", "Outbox"]

Message = dict[str, Any]
AsgiSend = Callable[[Message], Awaitable[None]]

# Seconds given to the close frame of a connection closed for its backpressure to get through
# (the peer has to read what is before it): uvicorn's own closing handshake timeout.
CLOSE_TIMEOUT = 10.0

_CLOSED: deque[str] = deque(maxlen=0)  # the backlog of an outbox that writes nothing more
_Coroutine = types.CoroutineType


class Outbox:
    """The texts sent to one WebSocket, through its ASGI ``send``, at most ``limit`` waiting.

    ``failed(error)`` is told of a write the server refused (the peer left); the text is dropped.
    ``stalled()``, when given, is called at the first write that waits: it starts the writer
    (:meth:`run`), which a connection whose writes never wait does without (no idle task).
    """

    __slots__ = ("limit", "overflowed", "_send", "_failed", "_backlog", "_stalled", "_writing", "_wake", "_on_stall")

    def __init__(
        self,
        send: AsgiSend,
        limit: int,
        *,
        failed: Callable[[BaseException], None],
        stalled: Callable[[], None] | None = None,
    ) -> None:
        self.limit = limit
        self.overflowed = False  # closed because the peer fell behind
        self._send = send
        self._failed = failed
        # None while nothing waits; else the texts to write after the write that waits (_CLOSED
        # once nothing more is written).
        self._backlog: deque[str] | None = None
        # That write (its coroutine, and what its last step yielded) until the writer takes it on.
        self._stalled: tuple[Coroutine[Any, Any, None], Any] | None = None
        self._writing: asyncio.Task[None] | None = None  # the task finishing it
        self._wake: asyncio.Event | None = None  # made by the first that needs it (an idle connection: none)
        self._on_stall = stalled

    @property
    def closed(self) -> bool:
        """Nothing more is written."""
        return self._backlog is _CLOSED

    async def send(self, text: str) -> None:
        """Send ``text`` after the texts sent before it (the connection's ``Sender``): never waits."""
        self.put(text)

    def put(self, text: str) -> None:
        """Send ``text`` after the texts sent before it; as :meth:`send`, as a plain call."""
        backlog = self._backlog
        if backlog is None:  # nothing waits: written now (as _write does, without its call)
            write = self._send({"type": "websocket.send", "text": text})
            if type(write) is not _Coroutine:
                write = _awaited(write)
            try:
                waiting = write.send(None)
            except StopIteration:
                return
            except Exception as error:
                self._failed(error)
                return
            self._stall(write, waiting)
        elif backlog is _CLOSED:
            return
        elif len(backlog) < self.limit:
            backlog.append(text)
        else:
            self._overflow()

    def _write(self, text: str) -> bool:
        """Write ``text`` now, as far as the server takes it without waiting; False if it waits."""
        # The server's send is run step by step here, as a task would run it: the usual write
        # completes in its first step, at no cost of a task; one that waits is left to the writer.
        write = self._send({"type": "websocket.send", "text": text})
        if type(write) is not _Coroutine:  # (an awaitable of another kind)
            write = _awaited(write)
        try:
            waiting = write.send(None)
        except StopIteration:
            return True
        except Exception as error:  # the peer left: this text can no longer reach it
            self._failed(error)
            return True
        self._stall(write, waiting)
        return False

    def _stall(self, write: Coroutine[Any, Any, None], waiting: Any) -> None:
        """A write waits: the writer finishes it; what is sent meanwhile waits behind it."""
        if self._backlog is None:
            self._backlog = deque()
        self._stalled = (write, waiting)
        self._waker().set()
        if self._on_stall is not None:  # the first time: the writer is started, once
            on_stall, self._on_stall = self._on_stall, None
            on_stall()

    def _waker(self) -> asyncio.Event:
        """What wakes the writer (an event takes 1 KiB: made only when a write waits)."""
        if self._wake is None:
            self._wake = asyncio.Event()
        return self._wake

    async def run(self) -> None:
        """The connection's writer: finishes each write that had to wait, then the texts behind it,
        in order. Returns when the peer fell behind (the connection is to be closed then)."""
        wake = self._waker()
        try:
            while not self.overflowed:
                await wake.wait()
                wake.clear()
                while self._stalled is not None:
                    await self._finish(*self._stalled)
                    if self.overflowed:
                        break
                    self._write_backlog()
        finally:
            self._drop()

    async def _finish(self, write: Coroutine[Any, Any, None], waiting: Any) -> None:
        """Await the rest of a write, in a task of its own that :meth:`_overflow` may cancel."""
        self._stalled = None
        self._writing = writing = asyncio.get_running_loop().create_task(_awaited(_rest(write, waiting)))
        try:
            await asyncio.wait((writing,))
        finally:
            writing.cancel()  # (when the connection ends while it waits)
            self._writing = None
        if not writing.cancelled() and (error := writing.exception()) is not None:
            self._failed(error)

    def _write_backlog(self) -> None:
        """Write the texts that waited, until one waits in turn (or none is left)."""
        backlog = self._backlog
        if backlog is _CLOSED:
            return
        while backlog:
            if not self._write(backlog.popleft()):
                return
        self._backlog = None

    def _overflow(self) -> None:
        self.overflowed = True
        self._drop()
        self._waker().set()

    def _drop(self) -> None:
        """Write nothing more: the texts waiting are dropped, the write that waits is abandoned."""
        self._backlog = _CLOSED
        if self._writing is not None:
            self._writing.cancel()
        if self._stalled is not None:
            self._stalled[0].close()
            self._stalled = None

    async def close(self, code: int, reason: str, timeout: float | None = None) -> None:
        """Close the WebSocket with ``code`` and ``reason``, waiting at most ``timeout`` seconds
        (``CLOSE_TIMEOUT``) for the server to take the close frame; nothing is written after it."""
        self._drop()
        closing = self._send({"type": "websocket.close", "code": code, "reason": reason})
        try:
            await asyncio.wait_for(_awaited(closing), CLOSE_TIMEOUT if timeout is None else timeout)
        except TimeoutError as error:  # a peer that reads nothing
            self._failed(error)
            _abort(self._send)
        except asyncio.CancelledError:  # the connection ends first: nor will it read the rest
            _abort(self._send)
            raise
        except Exception as error:  # one that left
            self._failed(error)


def _abort(send: AsgiSend) -> None:
    """Drop the connection of ``send`` at once, when its server lets us."""
    # ASGI has no way to drop a connection: the server closes its socket once its buffer is
    # flushed, so a peer that reads nothing would hold it (and that buffer) for as long as it
    # stays. uvicorn's send is a method of the connection's protocol, which holds its transport.
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    abort = getattr(transport, "abort", None)
    if not callable(abort):
        return
    sock: Any = transport.get_extra_info("socket") if hasattr(transport, "get_extra_info") else None
    try:  # a reset, rather than the kernel trying on to send what is queued to that peer
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except (AttributeError, OSError):
        pass
    abort()


async def _awaited(awaitable: Awaitable[None]) -> None:
    await awaitable


@types.coroutine
def _rest(coro: Coroutine[Any, Any, None], waiting: Any) -> Generator[Any, Any, None]:
    """The rest of ``coro``, stopped on ``waiting`` (what its first step yielded), to be awaited by
    a task that drives it on as if it had run it from its start."""
    step: Callable[[Any], Any]
    try:
        while True:
            try:
                sent = yield waiting
            except GeneratorExit:
                raise
            except BaseException as error:  # thrown in by the task (cancellation...): pass it on
                step, value = coro.throw, error
            else:
                step, value = coro.send, sent
            try:
                waiting = step(value)
            except StopIteration:
                return
    finally:
        coro.close()  # (a no-op once it has finished)
