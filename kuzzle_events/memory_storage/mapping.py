"""Kuzzle 2.56's ``ms`` actions: for each, where the Redis command's arguments come from.

An action is the Redis command of the same name. Its arguments are read, in order, from the
request: ``("_id",)`` is the request's ``_id``, ``("args", name)`` one of its arguments and
``("body", name)`` a property of its body. An argument that is absent (or null) is Kuzzle's
``api.assert.missing_argument`` named after the argument, unless it is optional. ``merge``
spreads a list in the command; ``convert`` checks and reshapes a value (Kuzzle's mappers).
Actions mapped to ``None`` take no argument, or have a reader of their own
(:mod:`kuzzle_events.memory_storage.arguments`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kuzzle_events.memory_storage import checks

__all__ = ["Field", "MAPPING", "OWN_READERS"]


@dataclass(frozen=True)
class Field:
    """One argument of a command: its name (in errors), its source, and how it is read."""

    name: str
    source: tuple[str, ...]
    optional: bool = False
    merge: bool = False
    convert: Callable[[Any], Any] | None = None


def _id(name: str = "key") -> Field:
    return Field(name, ("_id",))


def _arg(name: str, key: str | None = None) -> Field:
    return Field(name, ("args", key or name))


def _body(name: str, key: str | None = None) -> Field:
    return Field(name, ("body", key or name))


def _spread(name: str, source: str, key: str | None = None, *, optional: bool = False) -> Field:
    """A list spread in the command; over ``args`` a string is a comma-separated list."""
    convert = checks.to_array if source == "args" else None
    return Field(name, (source, key or name), optional=optional, merge=True, convert=convert)


def _optional(name: str, source: str, key: str | None = None) -> Field:
    return Field(name, (source, key or name), optional=True)


def _options(name: str = "options") -> Field:
    """``options`` such as ``withscores``: a list (or comma-separated string), upper-cased."""
    return Field(name, ("args", name), optional=True, merge=True, convert=checks.upper_array)


def _limit() -> Field:
    return Field("limit", ("args", "limit"), optional=True, merge=True, convert=checks.limit)


_MATCH = Field("match", ("args", "match"), optional=True, merge=True, convert=checks.scan_match)
_COUNT = Field("count", ("args", "count"), optional=True, merge=True, convert=checks.scan_count)

_KEY = [_id()]
_KEY_VALUE = [_id(), _body("value")]
_KEYS_ARG = [_spread("keys", "args")]
_SCAN_KEY = [_id(), _arg("cursor"), _MATCH, _COUNT]
_MEMBERS_ARG = [_id(), _spread("members", "args")]
_FIELD_ARG = [_id(), _arg("field")]
_FIELD_VALUE = [_id(), _body("field"), _body("value")]
_INCR = [_id(), _body("value")]
_RANGE = [_id(), _arg("start"), _arg("stop"), _options()]
_LEX = [_id(), _arg("min"), _arg("max"), _limit()]
_REVLEX = [_id(), _arg("max"), _arg("min"), _limit()]
_SCORE = [_id(), _arg("min"), _arg("max"), _options(), _limit()]
_REVSCORE = [_id(), _arg("max"), _arg("min"), _options(), _limit()]
_MEMBER_ARG = [_id(), _arg("member")]
_ENTRIES = [Field("entries", ("body", "entries"), merge=True, convert=checks.key_entries)]

# Actions whose arguments are read by a function of their own.
OWN_READERS = frozenset({"set", "sort", "zadd", "zinterstore", "zunionstore", "mexecute"})

MAPPING: dict[str, list[Field] | None] = {
    "append": _KEY_VALUE,
    "bitcount": [_id(), _optional("start", "args"), _optional("end", "args")],
    "bitop": [_body("operation"), _id("destkey"), _spread("keys", "body")],
    "bitpos": [_id(), _arg("bit"), _optional("start", "args"), _optional("end", "args")],
    "dbsize": None,
    "decr": _KEY,
    "decrby": _INCR,
    "del": [_body("keys")],
    "exists": _KEYS_ARG,
    "expire": [_id(), _body("seconds")],
    "expireat": [_id(), _body("timestamp")],
    "flushdb": None,
    "geoadd": [_id(), Field("points", ("body", "points"), merge=True, convert=checks.geopoints)],
    "geodist": [_id(), _arg("member1"), _arg("member2"), _optional("unit", "args")],
    "geohash": _MEMBERS_ARG,
    "geopos": _MEMBERS_ARG,
    "georadius": [_id(), _arg("lon"), _arg("lat"), _arg("distance"), _arg("unit"), _options()],
    "georadiusbymember": [_id(), _arg("member"), _arg("distance"), _arg("unit"), _options()],
    "get": _KEY,
    "getbit": [_id(), _arg("offset")],
    "getrange": [_id(), _arg("start"), _arg("end")],
    "getset": _KEY_VALUE,
    "hdel": [_id(), _spread("fields", "body", optional=True)],
    "hexists": _FIELD_ARG,
    "hget": _FIELD_ARG,
    "hgetall": _KEY,
    "hincrby": _FIELD_VALUE,
    "hincrbyfloat": _FIELD_VALUE,
    "hkeys": _KEY,
    "hlen": _KEY,
    "hmget": [_id(), _spread("fields", "args")],
    "hmset": [_id(), Field("entries", ("body", "entries"), merge=True, convert=checks.field_entries)],
    "hscan": _SCAN_KEY,
    "hset": _FIELD_VALUE,
    "hsetnx": _FIELD_VALUE,
    "hstrlen": _FIELD_ARG,
    "hvals": _KEY,
    "incr": _KEY,
    "incrby": _INCR,
    "incrbyfloat": _INCR,
    "keys": [_arg("pattern")],
    "lindex": [_id(), _arg("index", "idx")],
    "linsert": [_id(), _body("position"), _body("pivot"), _body("value")],
    "llen": _KEY,
    "lpop": _KEY,
    "lpush": [_id(), _spread("values", "body", optional=True)],
    "lpushx": _KEY_VALUE,
    "lrange": [_id(), _arg("start"), _arg("stop")],
    "lrem": [_id(), _body("count"), _body("value")],
    "lset": [_id(), _body("index"), _body("value")],
    "ltrim": [_id(), _body("start"), _body("stop")],
    "mexecute": None,
    "mget": _KEYS_ARG,
    "mset": _ENTRIES,
    "msetnx": _ENTRIES,
    "object": [_arg("subcommand"), _id()],
    "persist": _KEY,
    "pexpire": [_id(), _body("milliseconds")],
    "pexpireat": [_id(), _body("timestamp")],
    "pfadd": [_id(), _spread("elements", "body", optional=True)],
    "pfcount": _KEYS_ARG,
    "pfmerge": [_id(), _spread("sources", "body", optional=True)],
    "ping": None,
    "psetex": [_id(), _body("milliseconds"), _body("value")],
    "pttl": _KEY,
    "randomkey": None,
    "rename": [_id(), _body("newkey")],
    "renamenx": [_id(), _body("newkey")],
    "rpop": _KEY,
    "rpoplpush": [_body("source"), _body("destination")],
    "rpush": [_id(), _spread("values", "body", optional=True)],
    "rpushx": _KEY_VALUE,
    "sadd": [_id(), _spread("members", "body", optional=True)],
    "scan": [_arg("cursor"), _MATCH, _COUNT],
    "scard": _KEY,
    "sdiff": [_id(), _spread("keys", "args")],
    "sdiffstore": [_body("destination"), _id(), _spread("keys", "body")],
    "set": None,
    "setex": [_id(), _body("seconds"), _body("value")],
    "setnx": _KEY_VALUE,
    "sinter": _KEYS_ARG,
    "sinterstore": [_body("destination"), _spread("keys", "body")],
    "sismember": _MEMBER_ARG,
    "smembers": _KEY,
    "smove": [_id(), _body("destination"), _body("member")],
    "sort": None,
    "spop": [_id(), _optional("count", "body")],
    "srandmember": [_id(), _optional("count", "args")],
    "srem": [_id(), _spread("members", "body", optional=True)],
    "sscan": _SCAN_KEY,
    "strlen": _KEY,
    "sunion": _KEYS_ARG,
    "sunionstore": [_body("destination"), _spread("keys", "body")],
    "time": None,
    "touch": [_spread("keys", "body")],
    "ttl": _KEY,
    "type": _KEY,
    "zadd": None,
    "zcard": _KEY,
    "zcount": [_id(), _arg("min"), _arg("max")],
    "zincrby": [_id(), _body("value"), _body("member")],
    "zinterstore": None,
    "zlexcount": [_id(), _arg("min"), _arg("max")],
    "zrange": _RANGE,
    "zrangebylex": _LEX,
    "zrangebyscore": _SCORE,
    "zrank": _MEMBER_ARG,
    "zrem": [_id(), _spread("members", "body")],
    "zremrangebylex": [_id(), _body("min"), _body("max")],
    "zremrangebyrank": [_id(), _body("min", "start"), _body("max", "stop")],
    "zremrangebyscore": [_id(), _body("min"), _body("max")],
    "zrevrange": _RANGE,
    "zrevrangebylex": _REVLEX,
    "zrevrangebyscore": _REVSCORE,
    "zrevrank": _MEMBER_ARG,
    "zscan": _SCAN_KEY,
    "zscore": _MEMBER_ARG,
    "zunionstore": None,
}
