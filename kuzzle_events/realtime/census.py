"""Subscriptions counted across processes: each process's rooms in Redis, under a key that expires.

Every process sharing a Redis channel layer keeps, in a hash of its own, how many of its
connections are subscribed to each of its rooms, with the room's index and collection (what
``realtime:list`` shows). The hash expires ``ttl`` seconds after the process last refreshed it, and
the process refreshes it three times per ``ttl`` while it has subscribers: a process that dies
without a word (SIGKILL, a lost machine) stops being counted within ``ttl`` seconds. A sorted set
lists the processes, so that a reader finds every hash without scanning the keyspace.

Counts summed over every process answer ``realtime:count``, ``realtime:list`` and the user
notifications. When Redis cannot be reached, each method answers None and the caller counts its own
process's subscribers: a request never fails because of the census.
"""

from __future__ import annotations

import asyncio
import builtins
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from redis import asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from kuzzle_events.realtime.rooms import Rooms

__all__ = ["Census", "RoomList", "census_of_layer"]

RoomList = dict[str, dict[str, dict[str, int]]]
T = TypeVar("T")

# Longest wait on Redis for one operation: past it, the request is answered with local counts.
TIMEOUT = 1.0
# A field of every hash written whole. A hash without it was lost (Redis restarted empty, or the
# hash expired while its process was stalled) and is written whole again, not patched room by room.
_COMPLETE = "*"
# Seconds after its last refresh a process leaves the list of processes (its hash expired long
# before: this only keeps the list short).
_FORGET_AFTER = 600.0
# A lost or slow Redis, and anything unexpected in what it holds: a request never fails for them.
# Counts of rooms ARGV[2..] summed over the processes listed in KEYS[1], whose hashes are named
# ARGV[1] .. process: one round trip, whatever the number of processes.
_SUM = """
local counts = {}
for i = 2, #ARGV do counts[i - 1] = 0 end
for _, process in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local key = ARGV[1] .. process
  for i = 2, #ARGV do
    local entry = redis.call('HGET', key, ARGV[i])
    if entry then counts[i - 1] = counts[i - 1] + cjson.decode(entry)[1] end
  end
end
return counts
"""
# Every hash of the processes listed in KEYS[1] (named ARGV[1] .. process), field, value, field...
_ALL = """
local hashes = {}
for _, process in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  table.insert(hashes, redis.call('HGETALL', ARGV[1] .. process))
end
return hashes
"""
_FAILURES = (RedisError, OSError, asyncio.TimeoutError, ValueError, TypeError, LookupError)


class Census:
    """This process's subscriber counts in Redis, and every live process's counts summed."""

    def __init__(
        self, client: aioredis.Redis, rooms: Rooms, origin: str, *, ttl: float, prefix: str, log: logging.Logger
    ) -> None:
        self._client = client
        self._rooms = rooms
        self._origin = origin
        self._ttl_ms = max(1, round(ttl * 1000))
        self._period = ttl / 3
        self._processes = f"{prefix}:processes"
        self._prefix = f"{prefix}:process:"
        self._key = self._prefix + origin
        self._log = log
        # Writes go one at a time, each with the counts of the moment it is sent: the last one
        # written is always the latest state.
        self._lock = asyncio.Lock()
        self._dirty: set[str] = set()
        self._whole = True  # the next write rewrites the whole hash
        self._heartbeat: asyncio.Task[None] | None = None
        self._reachable = True
        self._used = False
        self._closed = False

    # What the hub asks ---------------------------------------------------------------------------

    async def changed(self, room_ids: Iterable[str]) -> dict[str, int] | None:
        """Write this process's counts of ``room_ids``; their counts summed over every live process."""
        wanted = builtins.list(room_ids)
        self._used = True
        self._dirty.update(wanted)

        async def write_then_sum() -> dict[str, int]:
            async with self._lock:
                return await _bounded(self._flush(wanted))

        return await self._answer(write_then_sum)

    async def count(self, room_id: str) -> int | None:
        """Subscribers of ``room_id`` on every live process."""

        async def read() -> int:
            counts = await _bounded(self._client.eval(_SUM, 1, self._processes, self._prefix, room_id))
            return int(counts[0])

        return await self._answer(read)

    async def list(self) -> RoomList | None:
        """``{index: {collection: {room id: subscribers}}}`` of every live process."""

        async def read() -> RoomList:
            listed: RoomList = {}
            for fields in await _bounded(self._client.eval(_ALL, 1, self._processes, self._prefix)):
                for room_id, entry in zip(fields[::2], fields[1::2], strict=True):
                    if room_id == _COMPLETE:
                        continue
                    count, index, collection = json.loads(entry)
                    rooms = listed.setdefault(index, {}).setdefault(collection, {})
                    rooms[room_id] = rooms.get(room_id, 0) + count
            return listed

        return await self._answer(read)

    async def _answer(self, step: Callable[[], Awaitable[T]]) -> T | None:
        if not self._reachable:
            # Until the heartbeat reaches Redis again, requests do not wait on it.
            self._keep()
            return None
        try:
            result = await step()
        except _FAILURES as error:
            self._unreachable(error)
            return None
        finally:
            self._keep()
        self._reachable_again()
        return result

    async def close(self) -> None:
        """Stop refreshing; this process's subscriptions leave the census now."""
        self._closed = True
        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.cancel()
            await asyncio.wait([heartbeat])
        try:
            if self._used and self._reachable:
                pipe = self._client.pipeline(transaction=True)
                self._leave(pipe)
                await _bounded(pipe.execute())
        except _FAILURES as error:  # its hash expires by itself
            self._log.info("realtime: subscriptions of this process left in Redis until they expire: %r", error)
        finally:
            await self._client.aclose(close_connection_pool=True)

    # Redis ----------------------------------------------------------------------------------------

    async def _flush(self, wanted: builtins.list[str]) -> dict[str, int]:
        """Write the rooms changed since the last write; the counts of ``wanted`` over every process."""
        if not self._rooms.rooms:
            # Nothing left here: leave the census (the next subscription writes the hash whole).
            self._dirty.clear()
            self._whole = True  # even if this fails: whatever is left in the hash is then replaced
            pipe = self._client.pipeline(transaction=True)
            self._leave(pipe)
            if wanted:
                self._sum(pipe, wanted)
            results = await pipe.execute()
            return self._counts(wanted, results[-1] if wanted else [])
        whole, rooms = self._whole, self._dirty
        self._whole, self._dirty = False, set()
        try:
            pipe = self._client.pipeline(transaction=True)
            if whole:
                pipe.delete(self._key)
                fields: dict[Any, Any] = {room_id: self._entry(room_id) for room_id in self._rooms.rooms}
                fields[_COMPLETE] = "1"
                pipe.hset(self._key, mapping=fields)
            else:
                pipe.hexists(self._key, _COMPLETE)
                present = [room_id for room_id in rooms if room_id in self._rooms.rooms]
                gone = [room_id for room_id in rooms if room_id not in self._rooms.rooms]
                if present:
                    pipe.hset(self._key, mapping={room_id: self._entry(room_id) for room_id in present})
                if gone:
                    pipe.hdel(self._key, *gone)
            self._refresh(pipe)
            if wanted:
                self._sum(pipe, wanted)
            results = await pipe.execute()
        except BaseException:
            self._whole = True  # what was lost is in the next whole write
            raise
        if not whole and not results[0]:
            self._whole = True
            return await self._flush(wanted)
        return self._counts(wanted, results[-1] if wanted else [])

    def _refresh(self, pipe: Any) -> None:
        now = time.time()
        pipe.pexpire(self._key, self._ttl_ms)
        pipe.zadd(self._processes, {self._origin: now})
        pipe.zremrangebyscore(self._processes, "-inf", now - _FORGET_AFTER)
        pipe.pexpire(self._processes, round(_FORGET_AFTER * 1000))

    def _leave(self, pipe: Any) -> None:
        pipe.delete(self._key)
        pipe.zrem(self._processes, self._origin)

    def _sum(self, pipe: Any, room_ids: builtins.list[str]) -> None:
        pipe.eval(_SUM, 1, self._processes, self._prefix, *room_ids)

    @staticmethod
    def _counts(room_ids: builtins.list[str], counts: builtins.list[Any]) -> dict[str, int]:
        return {room_id: int(count) for room_id, count in zip(room_ids, counts, strict=True)}

    def _entry(self, room_id: str) -> str:
        room = self._rooms.rooms[room_id]
        return json.dumps([room.count(), room.index, room.collection], separators=(",", ":"))

    # Heartbeat ------------------------------------------------------------------------------------

    def _keep(self) -> None:
        # After every use of Redis: a task refreshes this process's hash while it has
        # subscribers, tries Redis again while it is unreachable, and closes the connections once
        # neither is needed (or when its loop ends).
        if self._heartbeat is None and not self._closed:
            self._heartbeat = asyncio.get_running_loop().create_task(self._beat())

    async def _beat(self) -> None:
        try:
            while True:
                await asyncio.sleep(self._period)
                if not self._rooms.rooms and self._reachable:
                    break
                try:
                    async with self._lock:
                        await _bounded(self._keep_alive())
                except _FAILURES as error:
                    self._unreachable(error)
                else:
                    self._reachable_again()
        except asyncio.CancelledError:
            await self._disconnect(inuse=True)
            raise
        # No subscribers left (the write of the last one's leave left the census), Redis reached:
        # close the idle connections; a use in flight starts another task when it ends.
        self._heartbeat = None
        await self._disconnect(inuse=False)

    async def _disconnect(self, *, inuse: bool) -> None:
        try:
            await self._client.connection_pool.disconnect(inuse_connections=inuse)
        except Exception as error:  # closing: nothing more to do with them
            self._log.debug("realtime: closing connections to Redis: %r", error)

    async def _keep_alive(self) -> None:
        if self._whole or self._dirty or not self._rooms.rooms:
            await self._flush([])
            return
        pipe = self._client.pipeline(transaction=True)
        self._refresh(pipe)
        if not (await pipe.execute())[0]:  # the hash was lost: write it whole
            self._whole = True
            await self._flush([])

    # Reachability ---------------------------------------------------------------------------------

    def _unreachable(self, error: BaseException) -> None:
        if self._reachable:
            self._reachable = False
            self._log.warning("realtime: Redis unreachable, counting this process's subscribers only (%r)", error)

    def _reachable_again(self) -> None:
        if not self._reachable:
            self._reachable = True
            self._log.info("realtime: Redis reachable again, counting every process's subscribers")


async def _bounded(step: Awaitable[T]) -> T:
    return await asyncio.wait_for(step, TIMEOUT)


def census_of_layer(
    layer: Mapping[str, Any], rooms: Rooms, origin: str, *, ttl: float, log: logging.Logger
) -> Census | None:
    """The census on the Redis of a channels_redis layer's settings (its first host); None for other layers."""
    if not str(layer.get("BACKEND", "")).startswith("channels_redis."):
        return None
    from channels_redis.utils import create_pool, decode_hosts

    options = layer.get("CONFIG") or {}
    host = decode_hosts(options.get("hosts"))[0]
    # No retry: a failed operation is answered with local counts at once, and the heartbeat tries again.
    pool = create_pool({"retry": Retry(NoBackoff(), 0), **host, "decode_responses": True})
    prefix = f"{options.get('prefix', 'asgi')}:kuzzle_events:subscriptions"
    return Census(aioredis.Redis(connection_pool=pool), rooms, origin, ttl=ttl, prefix=prefix, log=log)
