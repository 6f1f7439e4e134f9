"""Kuzzle's ``memoryStorage`` service: a Redis database, real or embedded in the process.

With the setting ``MEMORY_STORAGE_URL`` (``redis://host:port/db``) the ``ms`` controller talks to
that Redis server, with :mod:`redis.asyncio`; without it, to an in-process Redis (fakeredis) that
lives as long as the application, which is what the embedded default needs: no server to run.

Replies are Redis's own, as Kuzzle's client (ioredis) gives them: text, integers, null and lists,
``hgetall`` an object. An error of Redis (``WRONGTYPE``, a bad number...) is Kuzzle's
``services.cache.read_failed`` / ``write_failed`` with Redis's message; an unreachable server is
``services.cache.not_connected`` (503). The embedded Redis runs every command but ``object``
(an error there), and ``touch`` as ``exists`` (it evicts nothing).

A client belongs to one event loop (its connections do): each loop that runs commands gets its
own, closed when that loop closes or when the application shuts down.
"""

from __future__ import annotations

import ast
import asyncio
import re
import types
import weakref
from collections.abc import Sequence
from importlib import metadata
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from kuzzle_events import errors

__all__ = ["MemoryStorage", "READ_ONLY"]

# Commands that only read: their failures are Kuzzle's read_failed, the others' write_failed.
READ_ONLY = frozenset(
    "bitcount bitpos dbsize exists geodist geohash geopos get getbit getrange hexists hget hgetall hkeys hlen "
    "hmget hscan hstrlen hvals keys lindex llen lrange mget object pfcount ping pttl randomkey scan scard sdiff "
    "sinter sismember smembers srandmember sscan strlen sunion time ttl type zcard zcount zlexcount zrange "
    "zrangebylex zrangebyscore zrank zrevrange zrevrangebylex zrevrangebyscore zrevrank zscan zscore".split()
)
_UNREACHABLE = (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)
# How redis-py rewrites the error of a command queued in a MULTI that Redis refused.
_QUEUED = re.compile(r"^Command # (\d+) \(.*\) of pipeline caused error: (.*)$", re.DOTALL)


def _redis_message(error: Exception) -> str:
    """Redis's error text, its code included (``ERR value is not an integer or out of range``).

    redis-py keeps the code apart for the codes it knows (``ERR``...); ioredis, hence Kuzzle,
    gives the reply as Redis wrote it.
    """
    text = str(error.args[0]) if error.args else type(error).__name__
    code = getattr(error, "status_code", None)
    return f"{code} {text}" if code else text


def _discarded(error: Exception, commands: Sequence[tuple[str, Sequence[str]]]) -> str:
    """Why Redis discarded a whole MULTI: which action it refused, with its error."""
    match = _QUEUED.match(str(error.args[0]) if error.args else "")
    if match is None:
        return _redis_message(error)
    number = int(match.group(1))
    try:
        cause = str(ast.literal_eval(match.group(2))[0])
    except (ValueError, SyntaxError, IndexError, TypeError):
        cause = match.group(2)
    code = getattr(error, "status_code", None)
    action = commands[number - 1][0] if 0 < number <= len(commands) else "?"
    return (
        "EXECABORT Transaction discarded because of previous errors: "
        f"action {number} ({action}): {f'{code} ' if code else ''}{cause}"
    )


def _ioredis(command: str, reply: Any) -> Any:
    """A raw reply as ioredis gives it: ``hgetall``'s list of pairs is an object."""
    if command == "hgetall" and isinstance(reply, list):
        return dict(zip(reply[::2], reply[1::2]))
    return reply


def _psetex_as_set(arguments: Sequence[str]) -> list[str]:
    """``PSETEX key ms value`` as ``SET key value PX ms``, which Redis documents as the same: the
    embedded Redis (fakeredis 2.41) rounds PSETEX's lifetime down to whole seconds."""
    key, milliseconds, value = arguments
    try:
        valid = int(milliseconds) > 0
    except ValueError:
        valid = False
    if not valid:  # Redis's own answer, naming psetex rather than set
        raise redis_errors.ResponseError("ERR invalid expire time in 'psetex' command")
    return [key, value, "PX", milliseconds]


def _by_score(reply: Any) -> Any:
    """An embedded ``zscan`` page in score order, as Redis pages a small sorted set (fakeredis: by member)."""
    cursor, flat = reply
    pairs = sorted(zip(flat[::2], flat[1::2]), key=lambda pair: float(pair[1]))
    return [cursor, [item for pair in pairs for item in pair]]


class MemoryStorage:
    """The application's memory storage: :meth:`execute` one command, :meth:`transaction` several."""

    def __init__(self, url: str | None) -> None:
        self.url = url or None
        self._server: Any = None  # the embedded Redis's data, shared by the clients of every loop
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, aioredis.Redis] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def embedded(self) -> bool:
        return self.url is None

    def _client(self) -> aioredis.Redis:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = self._new_client()
            # Raw replies, as ioredis gives them: RESP2 and none of redis-py's reply parsers.
            client.response_callbacks.clear()
            self._clients[loop] = client
            self._close_with(loop)
        return client

    def _new_client(self) -> aioredis.Redis:
        options: dict[str, Any] = {"decode_responses": True, "encoding_errors": "replace", "protocol": 2}
        if self.url is None:
            import fakeredis

            if self._server is None:
                self._server = fakeredis.FakeServer()
            return fakeredis.FakeAsyncRedis(server=self._server, **options)
        # A server that does not answer is an error soon, not a request that hangs.
        return aioredis.Redis.from_url(self.url, socket_connect_timeout=2, socket_timeout=10, **options)

    def _close_with(self, loop: asyncio.AbstractEventLoop) -> None:
        # As channels_redis does for its pools: a loop being closed closes its client first, whose
        # connections would otherwise be left open (and reported) once the loop is gone.
        original = loop.close
        storage = weakref.ref(self)

        def close(self_loop: asyncio.AbstractEventLoop) -> None:
            owner = storage()
            client = owner._clients.pop(self_loop, None) if owner is not None else None
            if client is not None and not self_loop.is_running():
                try:
                    self_loop.run_until_complete(client.aclose())
                except Exception:  # closing is best effort: the loop closes anyway
                    pass
            self_loop.close = original  # type: ignore[method-assign]
            original()

        loop.close = types.MethodType(close, loop)  # type: ignore[method-assign]

    async def close(self) -> None:
        """Close the client of the running loop (the application's shutdown)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()

    def _name(self, command: str) -> str:
        # The embedded Redis has no TOUCH: with no eviction to spare keys from, it is EXISTS.
        if command == "touch" and self.url is None:
            return "EXISTS"
        return command.upper()

    async def execute(self, command: str, arguments: Sequence[str]) -> Any:
        """Run one command (``"get"``, ``["key"]``): its reply, or Kuzzle's error."""
        try:
            name = self._name(command)
            if command == "psetex" and self.url is None:
                name, arguments = "SET", _psetex_as_set(arguments)
            reply = await self._client().execute_command(name, *arguments)
        except redis_errors.RedisError as error:
            raise self._error(command, error) from None
        except OSError as error:
            raise self._error(command, error) from None
        if command == "zscan" and self.url is None:
            reply = _by_score(reply)
        return _ioredis(command, reply)

    async def transaction(self, commands: Sequence[tuple[str, Sequence[str]]]) -> list[list[Any]]:
        """Run commands in one MULTI / EXEC: ``[[error or None, reply], ...]``, as Kuzzle's ``mexecute``."""
        if not commands:
            return []
        try:
            pipeline = self._client().pipeline(transaction=True)
            for command, arguments in commands:
                pipeline.execute_command(self._name(command), *arguments)
            replies = await pipeline.execute(raise_on_error=False)
        except _UNREACHABLE as error:
            raise self._error("mexecute", error) from None
        except redis_errors.RedisError as error:
            raise errors.get("services.cache.write_failed", _discarded(error, commands)) from None
        return [
            [_redis_message(reply), None] if isinstance(reply, Exception) else [None, _ioredis(command, reply)]
            for (command, _), reply in zip(commands, replies)
        ]

    @staticmethod
    def _error(command: str, error: Exception) -> errors.KuzzleError:
        if isinstance(error, _UNREACHABLE):
            return errors.get("services.cache.not_connected")
        message = _redis_message(error)
        if command in READ_ONLY:
            return errors.get("services.cache.read_failed", message)
        return errors.get("services.cache.write_failed", message)

    async def flush(self) -> None:
        """Empty the memory storage (``admin:resetCache`` of ``memoryStorage``, ``ms:flushdb``)."""
        await self.execute("flushdb", [])

    async def status(self) -> str | None:
        """Why the memory storage does not answer a PING, or None."""
        try:
            await self.execute("ping", [])
            return None
        except errors.KuzzleError as error:
            return error.message

    async def describe(self) -> dict[str, Any]:
        """The service as ``server:info`` lists it (Kuzzle's: memory, mode, type and version)."""
        if self.url is None:
            return {
                "type": "redis",
                "mode": "embedded",
                "backend": "fakeredis",
                "version": metadata.version("fakeredis"),
            }
        try:
            text = await self._client().execute_command("INFO")
        except (redis_errors.RedisError, OSError) as error:
            return {"type": "redis", "backend": "redis", "version": "unknown", "status": "red", "error": str(error)}
        info = dict(line.split(":", 1) for line in str(text).splitlines() if ":" in line and not line.startswith("#"))
        return {
            "memoryPeak": info.get("used_memory_peak_human"),
            "memoryUsed": info.get("used_memory_human"),
            "mode": info.get("redis_mode"),
            "type": "redis",
            "backend": "redis",
            "version": info.get("redis_version", "unknown"),
        }
