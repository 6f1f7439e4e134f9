"""Realtime rooms and notifications of one process. No Django here.

A room is a filter on one collection; its id is a hash of (index, collection, filter), so equal
subscriptions share it. A channel is a room seen with options (``scope``, ``users``): what a
subscriber receives notifications on (``room`` of each notification).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kuzzle_events.documents.filters import Predicate, compile_filter

__all__ = ["Room", "Subscription", "Rooms", "SCOPES", "document_notification", "user_notification"]

SCOPES = ("in", "out", "all", "none")
Sender = Callable[[str], Any]


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:32]


@dataclass
class Room:
    id: str
    index: str
    collection: str
    filters: dict[str, Any]
    match: Predicate
    # channel -> connection ids subscribed on it
    channels: dict[str, set[str]] = field(default_factory=dict)
    options: dict[str, tuple[str, str]] = field(default_factory=dict)  # channel -> (scope, users)

    def count(self) -> int:
        return len({c for members in self.channels.values() for c in members})


@dataclass(frozen=True)
class Subscription:
    room_id: str
    channel: str


class Rooms:
    """Subscriptions of this process's connections, and who to notify of what."""

    def __init__(self) -> None:
        self.rooms: dict[str, Room] = {}
        self._by_collection: dict[tuple[str, str], list[Room]] = {}
        self._by_connection: dict[str, set[tuple[str, str]]] = {}

    def subscribe(
        self, connection_id: str, index: str, collection: str, filters: Any, scope: str = "all", users: str = "none"
    ) -> Subscription:
        """Add a subscription (the filter is checked first: ``api.assert.*`` errors)."""
        match = compile_filter(filters, "body")
        room_id = _hash(index, collection, filters)
        room = self.rooms.get(room_id)
        if room is None:
            room = self.rooms[room_id] = Room(room_id, index, collection, filters, match)
            self._by_collection.setdefault((index, collection), []).append(room)
        channel = f"{room_id}-{_hash(scope, users)[:16]}"
        room.channels.setdefault(channel, set()).add(connection_id)
        room.options[channel] = (scope, users)
        self._by_connection.setdefault(connection_id, set()).add((room_id, channel))
        return Subscription(room_id, channel)

    def unsubscribe(self, connection_id: str, room_id: str) -> list[str]:
        """Remove a connection's subscriptions to a room; the channels it left."""
        room = self.rooms.get(room_id)
        mine = self._by_connection.get(connection_id, set())
        left = [channel for rid, channel in mine if rid == room_id]
        for channel in left:
            mine.discard((room_id, channel))
            if room is not None:
                members = room.channels.get(channel, set())
                members.discard(connection_id)
                if not members:
                    room.channels.pop(channel, None)
                    room.options.pop(channel, None)
        if room is not None and not room.channels:
            del self.rooms[room_id]
            siblings = self._by_collection.get((room.index, room.collection), [])
            if room in siblings:
                siblings.remove(room)
        return left

    def rooms_of(self, connection_id: str) -> list[str]:
        return sorted({room_id for room_id, _ in self._by_connection.get(connection_id, set())})

    def drop_connection(self, connection_id: str) -> list[str]:
        """Remove every subscription of a closed connection; the rooms it was in."""
        rooms = self.rooms_of(connection_id)
        for room_id in rooms:
            self.unsubscribe(connection_id, room_id)
        self._by_connection.pop(connection_id, None)
        return rooms

    def subscribed(self, connection_id: str, room_id: str) -> bool:
        return any(rid == room_id for rid, _ in self._by_connection.get(connection_id, set()))

    def document_targets(
        self, index: str, collection: str, _id: str, source: Any, previous: Any = None
    ) -> list[tuple[str, set[str], str]]:
        """``(channel, connection ids, scope)`` for a document now ``source`` (was ``previous``)."""
        targets = []
        for room in self._by_collection.get((index, collection), ()):
            now = source is not None and room.match(_id, source)
            before = previous is not None and room.match(_id, previous)
            if not now and not before:
                continue
            scope = "in" if now else "out"
            for channel, members in room.channels.items():
                wanted = room.options[channel][0]
                if members and wanted in (scope, "all"):
                    targets.append((channel, set(members), scope))
        return targets

    def user_targets(self, room_id: str) -> list[tuple[str, set[str], str]]:
        """``(channel, connection ids, users option)`` of the channels wanting user notifications."""
        room = self.rooms.get(room_id)
        if room is None:
            return []
        return [
            (channel, set(members), room.options[channel][1])
            for channel, members in room.channels.items()
            if room.options[channel][1] != "none"
        ]


def _result(document: dict[str, Any]) -> dict[str, Any]:
    result = {"_id": document.get("_id"), "_source": document.get("_source")}
    if "_updatedFields" in document:  # an update's changed fields (dotted paths), as Kuzzle 2.56 sends
        result["_updatedFields"] = document["_updatedFields"]
    return result


def document_notification(
    *,
    channel: str,
    index: str,
    collection: str,
    controller: str,
    action: str,
    event: str,
    scope: str,
    document: dict[str, Any],
    volatile: Any,
    request_id: str | None,
    node: str,
    protocol: str = "websocket",
) -> str:
    """Kuzzle's document notification, as the text sent to a subscriber."""
    return json.dumps(
        {
            "status": 200,
            "requestId": request_id,
            "timestamp": int(time.time() * 1000),
            "volatile": volatile,
            "index": index,
            "collection": collection,
            "controller": controller,
            "action": action,
            "protocol": protocol,
            "scope": scope,
            "state": "done",
            "event": event,
            "type": "document",
            "result": _result(document),
            "room": channel,
            "node": node,
        },
        separators=(",", ":"),
        default=str,
    )


def user_notification(
    *,
    channel: str,
    index: str,
    collection: str,
    action: str,
    user: str,
    count: int,
    volatile: Any,
    node: str,
    protocol: str = "websocket",
) -> str:
    """Kuzzle's user notification (someone joined or left the room)."""
    return json.dumps(
        {
            "status": 200,
            "timestamp": int(time.time() * 1000),
            "volatile": volatile,
            "index": index,
            "collection": collection,
            "controller": "realtime",
            "action": action,
            "protocol": protocol,
            "user": user,
            "type": "user",
            "result": {"count": count},
            "room": channel,
            "node": node,
        },
        separators=(",", ":"),
        default=str,
    )
