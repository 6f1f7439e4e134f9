"""Requests to an application through its real protocol adapters, in the test's process.

HTTP goes through the lean ASGI entry (:class:`~kuzzle_events.protocols.http.asgi.KuzzleASGI`),
WebSocket through the Channels consumer: what a client gets is what these tests get, envelopes
included, without a server or a socket.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from channels.testing import HttpCommunicator, WebsocketCommunicator

if TYPE_CHECKING:
    from kuzzle_events.application import Application

__all__ = ["KuzzleClient", "WebSocketSession"]

TIMEOUT = 10.0  # seconds an answer may take before the test fails


class KuzzleClient:
    """Send requests to ``app`` over HTTP or WebSocket; envelopes back, as dicts.

    ``jwt``: a token sent with every request (``Authorization: Bearer`` over HTTP, ``jwt`` in
    WebSocket frames).
    """

    def __init__(self, app: Application, *, jwt: str | None = None, timeout: float = TIMEOUT) -> None:
        self.app = app
        self.jwt = jwt
        self.timeout = timeout

    async def query(self, request: Mapping[str, Any], *, via: str = "http") -> dict[str, Any]:
        """Run one request (``{"controller", "action", ...}``) over ``via`` (``"http"``: ``POST
        /_query``; ``"websocket"``: one frame on a connection of its own); its envelope."""
        if via == "websocket":
            async with self.websocket() as session:
                return await session.query(request)
        if via != "http":
            raise ValueError(f'via must be "http" or "websocket", not {via!r}')
        status, _, body = await self.http("POST", "/_query", json.dumps(dict(request)).encode())
        envelope: dict[str, Any] = json.loads(body)
        assert envelope.get("status") == status, (status, envelope)
        return envelope

    async def http(
        self, method: str, path: str, body: bytes | str | Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request on a Kuzzle route (``"/shop/items/_create"``, ``"/_now"``...): status,
        headers (lower-case names) and body. A dict body is sent as JSON."""
        if isinstance(body, Mapping):
            body = json.dumps(dict(body))
        content = body.encode() if isinstance(body, str) else (body or b"")
        sent = {"content-type": "application/json", **{k.lower(): v for k, v in (headers or {}).items()}}
        if content:
            sent.setdefault("content-length", str(len(content)))  # as an HTTP client sends it
        if self.jwt is not None:
            sent.setdefault("authorization", f"Bearer {self.jwt}")
        from kuzzle_events.protocols.http.asgi import KuzzleASGI

        communicator = HttpCommunicator(
            KuzzleASGI(app=self.app), method, path, content, [(k.encode(), v.encode()) for k, v in sent.items()]
        )
        try:
            answer = await communicator.get_response(timeout=self.timeout)
        finally:
            await communicator.wait()
        answer_headers = {k.decode().lower(): v.decode() for k, v in answer["headers"]}
        return answer["status"], answer_headers, answer["body"]

    @asynccontextmanager
    async def websocket(self) -> AsyncIterator[WebSocketSession]:
        """A WebSocket connection to the consumer, open for the block."""
        from kuzzle_events.protocols.websocket.consumer import KuzzleConsumer

        communicator = WebsocketCommunicator(KuzzleConsumer.as_asgi(kuzzle_app=self.app), "/")
        connected, _ = await communicator.connect(timeout=self.timeout)
        if not connected:
            raise ConnectionError("the WebSocket consumer refused the connection")
        session = WebSocketSession(communicator, self.jwt, self.timeout)
        try:
            yield session
        finally:
            await communicator.disconnect(timeout=self.timeout)


class WebSocketSession:
    """One open WebSocket: requests answered by ``requestId``, notifications kept in order."""

    def __init__(self, communicator: WebsocketCommunicator, jwt: str | None, timeout: float) -> None:
        self._ws = communicator
        self._jwt = jwt
        self._timeout = timeout
        self._answers: dict[str, dict[str, Any]] = {}
        self.notifications: list[dict[str, Any]] = []  # what came that answered no request

    async def send(self, frame: str | bytes) -> None:
        """Send a raw frame (text or bytes), as a client may."""
        if isinstance(frame, bytes):
            await self._ws.send_to(bytes_data=frame)
        else:
            await self._ws.send_to(text_data=frame)

    async def query(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Send ``request`` (a ``requestId`` is added if missing) and return its envelope."""
        frame = {"requestId": uuid.uuid4().hex, **request}
        if self._jwt is not None:
            frame.setdefault("jwt", self._jwt)
        await self.send(json.dumps(frame))
        return await self._answer(str(frame["requestId"]))

    async def receive(self) -> dict[str, Any]:
        """The next message the server sends (an envelope or a notification)."""
        message: dict[str, Any] = json.loads(await self._ws.receive_from(timeout=self._timeout))
        return message

    async def notification(self) -> dict[str, Any]:
        """The next notification (a message that answers no request)."""
        while not self.notifications:
            self._keep(await self.receive())
        return self.notifications.pop(0)

    async def _answer(self, request_id: str) -> dict[str, Any]:
        while request_id not in self._answers:
            self._keep(await self.receive())
        return self._answers.pop(request_id)

    def _keep(self, message: dict[str, Any]) -> None:
        room = message.get("room")
        if isinstance(room, str) and message.get("requestId") == room:
            self._answers[room] = message
        else:
            self.notifications.append(message)
