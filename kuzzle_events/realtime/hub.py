"""``app.realtime``: subscriptions of this process's connections, notifications across processes.

Each change (a publish, a document write) is matched against this process's rooms and sent to the
subscribed connections. With a channel layer shared between processes (channels_redis), it is also
sent to a group that every process's hub reads, so subscribers on other processes get it too, and
subscribers are counted over every process (``realtime.census``): ``realtime:count``,
``realtime:list`` and user notifications answer as one node would. That group survives Redis
restarts and outages (:class:`~kuzzle_events.realtime.layer.GroupMember`): this process's
subscribers never depend on the layer, the others' resume when it is back.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from channels.layers import DEFAULT_CHANNEL_LAYER, InMemoryChannelLayer, channel_layers

from kuzzle_events import errors
from kuzzle_events.realtime.layer import GroupMember, LayerHealth, prepare
from kuzzle_events.realtime.rooms import SCOPES, Rooms, document_notification, user_notification

if TYPE_CHECKING:
    from kuzzle_events.application import Application
    from kuzzle_events.core.request import KuzzleRequest
    from kuzzle_events.realtime.census import Census, RoomList

__all__ = ["Realtime", "GROUP"]

GROUP = "kuzzle_events.realtime"
Sender = Callable[[str], Awaitable[None]]
# The action a document's notification names (Kuzzle's notifier): (if it was created, otherwise).
_NOTIFIED: dict[str, tuple[str, str]] = {
    **dict.fromkeys(("create", "mCreate"), ("create", "create")),
    **dict.fromkeys(("createOrReplace", "mCreateOrReplace", "write", "mWrite"), ("create", "replace")),
    **dict.fromkeys(("replace", "mReplace"), ("replace", "replace")),
    **dict.fromkeys(("update", "mUpdate", "updateByQuery", "deleteFields"), ("update", "update")),
    **dict.fromkeys(("upsert", "mUpsert"), ("create", "update")),
    **dict.fromkeys(("delete", "mDelete", "deleteByQuery"), ("delete", "delete")),
}
_OUTAGE = "notifications to and from other processes wait for it; this one's subscribers are still notified"


class Realtime:
    """The realtime engine of one application in one process."""

    def __init__(self, app: Application) -> None:
        self._app = app
        self.rooms = Rooms()
        self._senders: dict[str, Sender] = {}
        self._protocols: dict[str, str] = {}  # connection id -> its protocol, for user notifications
        self._origin = uuid.uuid4().hex
        self._layer: Any = None
        self._member: GroupMember | None = None
        # Subscribers counted over every process sharing the layer; None: this process's only.
        self.census: Census | None = None

    # Process life -------------------------------------------------------------------------------

    async def start(self) -> None:
        """Use a layer of its own when the project's channel layer is shared (not in-memory)."""
        if DEFAULT_CHANNEL_LAYER not in channel_layers.configs:
            return
        # An instance of its own: a channel layer reads on one event loop only, and each
        # application (tests make many) runs on its own.
        layer = channel_layers.make_backend(DEFAULT_CHANNEL_LAYER)
        if not isinstance(layer, InMemoryChannelLayer):
            prepare(layer)
            prepare(channel_layers[DEFAULT_CHANNEL_LAYER])  # the one of connections, before its first use
            self._layer = layer
            health = LayerHealth(self._app.log, "realtime: channel layer", _OUTAGE)
            self._member = GroupMember(layer, GROUP, self._received, health)
            self._start_census()

    def _start_census(self) -> None:
        # channels_redis is an optional dependency: imported only when the layer is one of its.
        from kuzzle_events.realtime.census import census_of_layer

        self.census = census_of_layer(
            channel_layers.configs[DEFAULT_CHANNEL_LAYER],
            self.rooms,
            self._origin,
            ttl=self._app.config.SUBSCRIPTIONS_TTL,
            log=self._app.log,
        )

    async def _stop_census(self) -> None:
        census, self.census = self.census, None
        if census is not None:
            await census.close()

    async def stop(self) -> None:
        await self._stop_census()
        if self._member is not None:
            await self._member.close()
        if self._layer is not None and hasattr(self._layer, "close_pools"):
            await self._layer.close_pools()
        self._layer = self._member = None

    async def layer_status(self) -> str | None:
        """The shared channel layer's state now, ``"green"`` or ``"red"``; None without one."""
        return None if self._member is None else await self._member.status()

    async def _listen_if_needed(self) -> None:
        # Other processes' changes matter only while this one has subscribers.
        if self._member is not None:
            await self._member.join()

    async def _stop_listening(self) -> None:
        if self._member is not None:
            await self._member.leave()

    async def _received(self, message: dict[str, Any]) -> None:
        """A message of the group of every process's hub."""
        if message.get("origin") != self._origin:
            await self._deliver(message["payload"])

    # Connections --------------------------------------------------------------------------------

    def attach(self, connection_id: str, send: Sender, protocol: str = "websocket") -> None:
        """A connection able to receive notifications (a WebSocket, an MQTT client)."""
        self._senders[connection_id] = send
        self._protocols[connection_id] = protocol

    def protocol_of(self, connection_id: str) -> str:
        """The protocol of an attached connection (``internal`` for one that is not)."""
        return self._protocols.get(connection_id, "internal")

    async def detach(self, connection_id: str) -> None:
        """A closed connection: its subscriptions die with it."""
        self._senders.pop(connection_id, None)
        protocol = self._protocols.pop(connection_id, "websocket")
        left = []
        for room_id in self.rooms.rooms_of(connection_id):
            room = self.rooms.rooms[room_id]
            left.append((room_id, room.index, room.collection))
            self.rooms.unsubscribe(connection_id, room_id)
        if not left:
            return
        if not self.rooms.rooms:
            await self._stop_listening()
        counts = await self._counts([room_id for room_id, _, _ in left])
        for room_id, index, collection in left:
            await self._broadcast(
                _user_message(
                    room_id, index, collection, "unsubscribe", "out", None, connection_id, counts[room_id], protocol
                )
            )

    # Actions ------------------------------------------------------------------------------------

    async def subscribe(self, request: KuzzleRequest) -> dict[str, Any]:
        connection_id = self._connection_of(request)
        index, collection = request.get_index(), request.get_collection()
        scope = _option(request, "scope", "all")
        users = _option(request, "users", "none")
        body = request.get_body({})
        subscription = self.rooms.subscribe(connection_id, index, collection, body, scope, users)
        room_id = subscription.room_id
        await self._listen_if_needed()
        counts = await self._counts([room_id])
        await self._broadcast(
            _user_message(
                room_id,
                index,
                collection,
                "subscribe",
                "in",
                request.input.volatile,
                connection_id,
                counts[room_id],
                request.context.connection.protocol,
            )
        )
        events = self._app.events
        if events.has_listeners("core:realtime:user:subscribe:after"):
            await events.trigger(
                "core:realtime:user:subscribe:after",
                {
                    "roomId": subscription.room_id,
                    "connectionId": connection_id,
                    "index": index,
                    "collection": collection,
                },
            )
        return {"roomId": subscription.room_id, "channel": subscription.channel}

    async def unsubscribe(self, request: KuzzleRequest, *, notify: bool = True) -> dict[str, Any]:
        """Leave the room ``body.roomId``; with ``notify``, its other members are told (``out``)."""
        connection_id = self._connection_of(request)
        room_id = request.get_body().get("roomId")
        if not isinstance(room_id, str) or not self.rooms.subscribed(connection_id, room_id):
            raise errors.get("core.realtime.not_subscribed", connection_id, room_id)
        room = self.rooms.rooms[room_id]
        index, collection = room.index, room.collection
        self.rooms.unsubscribe(connection_id, room_id)
        if not self.rooms.rooms:
            await self._stop_listening()
        if notify:
            await self._broadcast_leave(request, room_id, index, collection, connection_id)
        events = self._app.events
        if events.has_listeners("core:realtime:user:unsubscribe:after"):
            await events.trigger(
                "core:realtime:user:unsubscribe:after", {"roomId": room_id, "connectionId": connection_id}
            )
        return {"roomId": room_id}

    async def _broadcast_leave(
        self, request: KuzzleRequest, room_id: str, index: str, collection: str, connection_id: str
    ) -> None:
        counts = await self._counts([room_id])
        await self._broadcast(
            _user_message(
                room_id,
                index,
                collection,
                "unsubscribe",
                "out",
                request.input.volatile,
                connection_id,
                counts[room_id],
                request.context.connection.protocol,
            )
        )

    async def publish(self, request: KuzzleRequest) -> dict[str, Any]:
        index, collection = request.get_index(), request.get_collection()
        body = request.get_body()
        document = {"_id": request.input.args.get("_id"), "_source": body}
        await self._broadcast(
            _document_message(request, index, collection, "realtime", "publish", "publish", [document])
        )
        return {"published": True}

    async def count(self, request: KuzzleRequest) -> dict[str, Any]:
        """Subscribers of ``body.roomId`` on every process; 0 for a room nobody is subscribed to (Kuzzle's cluster)."""
        room_id = request.get_body().get("roomId")
        if room_id is None:
            raise errors.get("api.assert.missing_argument", "body.roomId")
        if not isinstance(room_id, str):
            raise errors.get("api.assert.invalid_type", "body.roomId", "string")
        counted = None if self.census is None else await self.census.count(room_id)
        return {"count": self._local_count(room_id) if counted is None else counted}

    async def list(self) -> RoomList:
        """``{index: {collection: {roomId: subscribers}}}`` over every process."""
        listed = None if self.census is None else await self.census.list()
        if listed is not None:
            return listed
        listed = {}
        for room in self.rooms.rooms.values():
            listed.setdefault(room.index, {}).setdefault(room.collection, {})[room.id] = room.count()
        return listed

    async def _counts(self, room_ids: builtins.list[str]) -> dict[str, int]:
        # After a join or a leave: the census is told, and answers the counts over every process.
        counted = None if self.census is None else await self.census.changed(room_ids)
        return counted if counted is not None else {room_id: self._local_count(room_id) for room_id in room_ids}

    def _local_count(self, room_id: str) -> int:
        room = self.rooms.rooms.get(room_id)
        return 0 if room is None else room.count()

    async def document_changed(
        self, request: KuzzleRequest, index: str, collection: str, action: str, documents: builtins.list[dict[str, Any]]
    ) -> None:
        """Notify subscribers of documents written or deleted by a ``document`` (or ``bulk``) action.

        Each document's notification names what happened to it, as Kuzzle's do: ``create``,
        ``replace``, ``update`` or ``delete`` (an ``upsert`` that created its document: ``create``).
        """
        when_created, otherwise = _NOTIFIED.get(action, (action, action))
        event = "delete" if otherwise == "delete" else "write"
        documents = [{**d, "action": when_created if d.get("created") else otherwise} for d in documents]
        message = _document_message(request, index, collection, "document", action, event, documents)
        await self._broadcast(message)

    # Delivery -----------------------------------------------------------------------------------

    async def _broadcast(self, message: dict[str, Any]) -> None:
        await self._deliver(message)
        if self._member is not None:
            # Never raises: the local subscribers were notified; with the layer down, the others miss this one.
            await self._member.send({"type": "kuzzle.realtime", "origin": self._origin, "payload": message})

    async def _deliver(self, message: dict[str, Any]) -> None:
        # What every notification of this message says, whoever it is sent to.
        common = {key: message[key] for key in ("index", "collection", "action", "volatile")}
        common["node"] = self._app.config.NODE
        # The protocol of the request that caused it, as in Kuzzle's notifications.
        common["protocol"] = message.get("protocol", "websocket")
        texts: list[tuple[str, str]] = []
        if message["kind"] == "user":
            for channel, members, users in self.rooms.user_targets(message["roomId"]):
                if users not in (message["user"], "all"):
                    continue
                # Counted where the join or the leave happened, so that every process sends the same.
                count = message.get("count")
                if count is None:
                    count = self._local_count(message["roomId"])
                text = user_notification(channel=channel, user=message["user"], count=count, **common)
                # The connection that joined or left is not told about itself.
                texts.extend((c, text) for c in members if c != message["connection"])
        else:
            for document in message["documents"]:
                if message["event"] == "delete":
                    # A deleted document leaves the rooms it matched: scope "out".
                    source, previous = None, document.get("_source")
                else:
                    source, previous = document.get("_source"), document.get("_previous")
                for channel, members, scope in self.rooms.document_targets(
                    message["index"], message["collection"], document.get("_id") or "", source, previous
                ):
                    text = document_notification(
                        channel=channel,
                        controller=message["controller"],
                        event=message["event"],
                        scope=scope,
                        document=document,
                        request_id=message["requestId"],
                        **{**common, "action": document.get("action", common["action"])},
                    )
                    texts.extend((c, text) for c in members)
        for connection_id, text in texts:
            send = self._senders.get(connection_id)
            if send is not None:
                await send(text)

    def _connection_of(self, request: KuzzleRequest) -> str:
        connection_id = request.context.connection.id
        if connection_id not in self._senders:
            raise errors.get("core.realtime.unsupported_protocol", request.context.connection.protocol)
        return connection_id


def _option(request: KuzzleRequest, name: str, default: str) -> str:
    value = request.input.args.get(name, default)
    if value not in SCOPES:
        raise errors.get("api.assert.invalid_argument", name, "in, out, all or none")
    return str(value)


def _user_message(
    room_id: str,
    index: str,
    collection: str,
    action: str,
    user: str,
    volatile: Any,
    connection_id: str,
    count: int,
    protocol: str,
) -> dict[str, Any]:
    return {
        "kind": "user",
        "connection": connection_id,
        "roomId": room_id,
        "index": index,
        "collection": collection,
        "action": action,
        "user": user,
        "volatile": volatile,
        "count": count,
        "protocol": protocol,
    }


def _document_message(
    request: KuzzleRequest,
    index: str,
    collection: str,
    controller: str,
    action: str,
    event: str,
    documents: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "kind": "document",
        "index": index,
        "collection": collection,
        "controller": controller,
        "action": action,
        "event": event,
        "documents": documents,
        "volatile": request.input.volatile,
        "requestId": request.id,
        "protocol": request.context.connection.protocol,
    }
