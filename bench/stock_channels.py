"""Baseline of ``bench/websocket.py``: the stock Channels ``AsyncJsonWebsocketConsumer`` answering
``server:now`` with the same envelope, routed by ``ProtocolTypeRouter``
(``uvicorn bench.stock_channels:application``). Nothing overridden but ``receive_json``."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_application = get_asgi_application()

from channels.generic.websocket import AsyncJsonWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter  # noqa: E402

from bench.envelope import now_envelope  # noqa: E402


class StockNowConsumer(AsyncJsonWebsocketConsumer):
    async def receive_json(self, content, **kwargs):
        await self.send_json(now_envelope(str(content.get("requestId")), room=True))


application = ProtocolTypeRouter({"http": django_application, "websocket": StockNowConsumer.as_asgi()})
