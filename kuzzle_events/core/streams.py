"""``HttpStream``: an action's result sent over HTTP as it comes, as Kuzzle's ``HttpStream``. No
Django import.

An action returns ``HttpStream(chunks)`` (an iterable or async iterable of bytes or text, UTF-8)
to answer a large or generated body without holding it whole: the HTTP answer carries the action's
headers and then the chunks, ``Transfer-Encoding: chunked``, or with a ``Content-Length`` when
``total_bytes`` is given. Over any other protocol, setting one as a result is
``api.assert.forbidden_stream``, as in Kuzzle.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable

from kuzzle_events import errors

__all__ = ["HttpStream"]

Chunk = bytes | bytearray | memoryview | str


class HttpStream:
    """A body sent in pieces; ``total_bytes`` > 0: its exact size (sent as ``Content-Length``)."""

    __slots__ = ("chunks", "total_bytes", "_read")

    def __init__(self, chunks: Iterable[Chunk] | AsyncIterable[Chunk], total_bytes: int = -1) -> None:
        if not isinstance(chunks, (Iterable, AsyncIterable)) or isinstance(chunks, (str, bytes)):
            raise TypeError("HttpStream takes an iterable or an async iterable of chunks")
        self.chunks = chunks
        self.total_bytes = total_bytes
        self._read = False

    @property
    def fixed_size(self) -> bool:
        """Whether the answer declares its size (``total_bytes`` > 0), else it is chunked."""
        return isinstance(self.total_bytes, int) and self.total_bytes > 0

    async def pieces(self) -> AsyncIterator[bytes]:
        """The chunks as bytes, once (``network.http.stream_closed`` the second time); a chunk
        of another type, or a failure of the source, is ``network.http.stream_errored``."""
        if self._read:
            raise errors.get("network.http.stream_closed")
        self._read = True
        source = self.chunks
        try:
            if isinstance(source, AsyncIterable):
                async for chunk in source:
                    yield _bytes(chunk)
            else:
                for chunk in source:
                    yield _bytes(chunk)
        except errors.KuzzleError:
            raise
        except Exception as error:
            raise errors.get("network.http.stream_errored", str(error)) from error

    async def read(self) -> bytes:
        """The whole body (for a server that answers in one piece)."""
        return b"".join([piece async for piece in self.pieces()])


def _bytes(chunk: Chunk) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode()
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return bytes(chunk)
    raise errors.get("network.http.stream_errored", f"a chunk must be bytes or text, not {type(chunk).__name__}")
