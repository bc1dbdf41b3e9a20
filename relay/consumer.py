"""The WebSocket consumer at /ws/: Channels' three hooks, each handing over to the module
that does the work. Opening a socket is `relay.opening`, a frame in is `relay.intake`,
the socket as the hub and the handlers see it is `relay.session`.
"""

from channels.consumer import AsyncConsumer
from channels.exceptions import StopConsumer

from relay import opening
from relay.intake import Intake


class RelayConsumer(AsyncConsumer):
    """One client socket."""

    session = None
    intake = None

    async def __call__(self, scope, receive, send):
        # No per-socket layer channel: the hub receives for the whole process. One source, so
        # no `await_many_dispatch`: it keeps a task per socket waiting on `receive` and makes a
        # new one for every frame.
        self.scope = scope
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message):
        # Channels' default also closes old DB connections before every message; handlers
        # that touch the database do that in their own thread instead.
        kind = message["type"]
        if kind == "websocket.receive":
            await self.websocket_receive(message)
        elif kind == "websocket.connect":
            await self.websocket_connect(message)
        elif kind == "websocket.disconnect":
            await self.websocket_disconnect(message)

    async def websocket_connect(self, message):
        """Accept; sign in, replay what was missed and go live."""
        self.session = await opening.open_socket(self.base_send, self.scope)
        if self.session is not None:
            self.intake = Intake(self.session)

    async def websocket_receive(self, message):
        """A frame in: checked, handled, answered."""
        if self.intake is not None:
            await self.intake.receive(message)

    async def websocket_disconnect(self, message):
        """The client went away: off the hub; the consumer stops."""
        if self.session is not None:
            await self.session.gone()
        raise StopConsumer()
