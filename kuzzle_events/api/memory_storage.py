"""The ``ms`` controller (memory storage), as Kuzzle 2.56's: one action per Redis command.

Each action runs the Redis command of its name on the application's memory storage (see
:mod:`kuzzle_events.memory_storage`), its arguments read from the request's ``_id``, arguments
and body as Kuzzle reads them, and answers Redis's reply. ``memoryStorage`` is the same
controller under Kuzzle's other name: no HTTP route of its own, its events ``ms:*``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kuzzle_events.api.table import Handler, Table, route
from kuzzle_events.memory_storage import MAPPING, arguments, checks

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest

__all__ = ["actions", "alias_actions"]

_GET_ID = (
    "bitcount bitpos getbit getrange geohash geopos georadius georadiusbymember hgetall hkeys hlen hmget hscan "
    "hvals llen lrange object pttl scard sdiff smembers srandmember sscan strlen ttl type zcard zcount zlexcount "
    "zrange zrangebylex zrevrangebylex zrangebyscore zrevrange zrevrangebyscore zscan"
).split()
_GET = "dbsize exists mget pfcount ping randomkey scan sinter sunion time".split()
_POST_ID = (
    "append bitop decr decrby expire expireat geoadd getset hincrby hincrbyfloat hmset hset hsetnx incr incrby "
    "incrbyfloat linsert lpop lpush lpushx lset ltrim persist pexpire pexpireat pfadd pfmerge psetex rename "
    "renamenx rpop rpush rpushx sadd sdiffstore set setex setnx smove sort spop zadd zincrby zinterstore "
    "zunionstore"
).split()
_POST = "flushdb mexecute mset msetnx rpoplpush sinterstore sunionstore touch".split()
_DELETE_ID = "hdel lrem srem zrem zremrangebylex zremrangebyrank zremrangebyscore".split()

# Kuzzle's /ms routes whose path is not /ms/_<action>[/:_id].
_OTHER_ROUTES: dict[str, list[dict[str, str]]] = {
    "geodist": [route("get", "/ms/_geodist/:_id/:member1/:member2")],
    "hexists": [route("get", "/ms/_hexists/:_id/:field")],
    "hget": [route("get", "/ms/_hget/:_id/:field")],
    "hstrlen": [route("get", "/ms/_hstrlen/:_id/:field")],
    "keys": [route("get", "/ms/_keys/:pattern")],
    "lindex": [route("get", "/ms/_lindex/:_id/:idx")],
    "sismember": [route("get", "/ms/_sismember/:_id/:member")],
    "zrank": [route("get", "/ms/_zrank/:_id/:member")],
    "zrevrank": [route("get", "/ms/_zrevrank/:_id/:member")],
    "zscore": [route("get", "/ms/_zscore/:_id/:member")],
    "get": [route("get", "/ms/:_id")],
    "del": [route("delete", "/ms")],
}


def _routes() -> dict[str, list[dict[str, str]]]:
    routes = dict(_OTHER_ROUTES)
    for verb, names, with_id in (
        ("get", _GET_ID, True),
        ("get", _GET, False),
        ("post", _POST_ID, True),
        ("post", _POST, False),
        ("delete", _DELETE_ID, True),
    ):
        for name in names:
            routes[name] = [route(verb, f"/ms/_{name}" + ("/:_id" if with_id else ""))]
    return routes


def _handler(action: str) -> Handler:
    async def run(app: Application, request: KuzzleRequest) -> Any:
        values = arguments.command_arguments(action, request.input.args, request.input.body)
        return await app.memory_storage.execute(action, checks.redis_arguments(values))

    run.__name__ = run.__qualname__ = action
    run.__doc__ = f"Redis's {action.upper()} on the memory storage."
    return run


async def mexecute(app: Application, request: KuzzleRequest) -> list[list[Any]]:
    """Several actions in one Redis transaction (MULTI / EXEC): ``[[error, result], ...]``."""
    commands = arguments.transaction(request.input.args, request.input.body)
    return await app.memory_storage.transaction(
        [(command, checks.redis_arguments(values)) for command, values in commands]
    )


def actions() -> Table:
    """The ``ms`` controller: every command of Kuzzle's table, with Kuzzle's ``/ms`` routes."""
    routes = _routes()
    table: Table = {}
    for action in sorted(MAPPING):
        handler = mexecute if action == "mexecute" else _handler(action)
        table[action] = (handler, routes.get(action, []))
    return table


def alias_actions() -> Table:
    """``memoryStorage``: the same actions, reached by name only (Kuzzle gives the alias no route)."""
    return {name: (handler, []) for name, (handler, _) in actions().items()}
