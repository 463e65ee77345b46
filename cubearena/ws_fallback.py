"""Sockets to a path no route serves: accepted and closed 4404, like a match that does not exist.

Without it Channels' URLRouter raises "No route found", which Daphne answers with HTTP 500 and a
traceback in the log for every stray or probing client.
"""

from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer


class NoRouteConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        await self.accept()  # refusals are accept + close with a code (PROTOCOL.md)
        await self.close(code=4404, reason="no socket at this path")

    async def receive(self, text_data=None, bytes_data=None):
        """Nothing to say to a socket that is being closed."""

    async def websocket_disconnect(self, message):
        raise StopConsumer()
