"""One socket as the hub and the frame handlers see it: who is on it, which topics it is
on, and how to write to it or close it. The consumer (`relay.consumer`) only feeds it."""

import logging
import time

from django.conf import settings

from config import metrics
from relay import fastpath
from relay.limits import Cooldown
from relay.stream import events

log = logging.getLogger("kirimin.relay")


class Session:
    def __init__(self, send, *, hub, client_id):
        self._send = send  # the ASGI send
        self.raw_send = fastpath.raw_sender(send) if settings.RELAY_FAST_WRITES else None
        self.hub = hub
        self.client_id = client_id
        self.user = None
        self.user_id = None
        self.address = None  # the client's address, for the anonymous cap
        self.topics = set()  # every topic this socket is on (kept by the hub's registry)
        self.member_topics = set()  # group topics from membership
        self.subscriptions = set()  # topics from `subscribe`
        self.closed = False
        self.ready = False  # the hub writes to it only once it has caught up (`Hub.catch_up`)
        self.position = 0  # the stream position its state was read at, until it is ready
        self.last_frame = time.monotonic()  # when the client last sent a frame (idle anonymous sockets close)
        self.typing = Cooldown(0.3)  # at most one typing indicator every 300 ms

    def group_ids(self):
        """The user's groups, kept live by the stream's membership changes."""
        return sorted(int(topic.removeprefix("group.")) for topic in self.member_topics)

    def connection_frame(self, ref=None, *, seq=None, streams=None):
        groups = self.group_ids() if self.user else []
        frame = events.connection(client_id=self.client_id, user=events.user_shape(self.user) if self.user else None,
                                  groups=groups)
        if seq is not None:  # where this socket starts in the stream, and its streams' offsets there
            frame["seq"] = seq
            frame["streams"] = streams
        if ref is not None:
            frame["ref"] = ref
        return frame

    # --- writing ------------------------------------------------------------------------------------
    async def push(self, text):
        """Deliver an encoded event (called by the hub for sockets it cannot write to directly)."""
        await self.write_many((text,))

    async def reply(self, frame):
        metrics.FRAMES_OUT.labels(frame["type"]).inc()
        await self.write_many((events.encode(frame),))

    async def write_many(self, texts):
        """Write encoded frames in order: in one write to the transport where the server allows
        it (`fastpath`), else one ASGI send each (also when the client stopped reading: the
        server's own flow control, as ever, decides what happens then)."""
        if self.closed or not texts:
            return
        if self.raw_send is not None:
            frames = [(fastpath.frame(text), text) for text in texts]
            data = frames[0][0] if len(frames) == 1 else b"".join(f for f, _ in frames)
            if self.raw_send(data, frames) == fastpath.WRITTEN:
                return
        try:
            for text in texts:
                await self._send({"type": "websocket.send", "text": text})
        except Exception:  # the peer went away under us; disconnect follows
            self.closed = True

    async def close_with(self, code):
        if self.closed:
            return
        self.closed = True
        metrics.CLOSES.labels(str(code)).inc()
        # Off the hub (and presence) first: the close frame may wait behind a buffer the
        # client is not reading (uvicorn waits for the transport to drain; its ping
        # timeout ends such a connection), and this socket is gone for us already.
        await self.hub.detach(self)
        await close_socket(self._send, code)

    async def gone(self):
        """The client went away."""
        if not self.closed:
            metrics.CLOSES.labels("client").inc()
        self.closed = True
        await self.hub.detach(self)


async def close_socket(send, code):
    """Close with `code`, straight on the transport where the server allows it (daphne's
    autobahn refuses codes such as 1013 through ASGI), else through ASGI."""
    try:
        if not fastpath.close_directly(send, code):
            await send({"type": "websocket.close", "code": code})
    except Exception:
        log.warning("relay: could not close a socket with %s", code, exc_info=True)
