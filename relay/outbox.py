"""What one pass of the hub writes: frames queued per socket while the pass applies the
stream, written at its end.

When entries arrive faster than the sockets can be written (a busy group), a pass takes
every message that arrived since the last one, so each socket's share goes out in one
`transport.write`; sockets that got the same frames share one joined buffer.
"""

import logging

from relay import fastpath

log = logging.getLogger("kirimin.relay")

# A client that stops reading is closed with this code once its send buffer passes
# RELAY_MAX_SEND_BUFFER: it has missed events and should reconnect and resume.
CLOSE_SLOW_CONSUMER = 4008


class Outbox:
    def __init__(self, spawn):
        self._spawn = spawn  # runs a coroutine in a task the pass does not wait for
        self._out = {}  # fast socket -> [(frame bytes, text)]
        self._pushes = {}  # other socket -> [text] to send through ASGI
        self._to_close = []  # (socket, code) to close once the pass is written

    def deliver(self, sessions, text):
        """Queue `text` for each ready session."""
        prepared = None
        out, pushes = self._out, self._pushes
        for session in sessions:
            if not session.ready or session.closed:
                continue
            if session.raw_send is not None:
                # The same frame bytes for every local socket: framed once per event.
                if prepared is None:
                    prepared = (fastpath.frame(text), text)
                frames = out.get(session)
                if frames is None:
                    out[session] = [prepared]
                else:
                    frames.append(prepared)
            else:
                queued = pushes.get(session)
                if queued is None:
                    pushes[session] = [text]
                else:
                    queued.append(text)

    def close_later(self, session, code):
        """Close the socket once what was queued before is written."""
        self._to_close.append((session, code))

    async def flush(self):
        """Write what was queued: one write per fast socket, then the ASGI sends of the others,
        in order; then close the sockets that were to be closed."""
        if self._out:
            out, self._out = self._out, {}
            joined = {}
            slow = []
            for session, frames in out.items():
                if len(frames) == 1:
                    data = frames[0][0]
                else:
                    key = tuple(id(f) for f in frames)
                    data = joined.get(key)
                    if data is None:
                        data = joined[key] = b"".join(f[0] for f in frames)
                if session.raw_send(data, frames) == fastpath.SLOW:
                    slow.append(session)
            for session in slow:
                log.warning("relay: closing socket %s of user %s with %d: it stopped reading",
                            session.client_id, session.user_id, CLOSE_SLOW_CONSUMER)
                # In a task of its own: the close may wait behind the very buffer the client
                # is not reading (uvicorn waits until the transport is writable again), and
                # the hub must not wait with it. The socket counts as closed at once.
                self._spawn(session.close_with(CLOSE_SLOW_CONSUMER))
        while self._pushes:
            pushes, self._pushes = self._pushes, {}
            for session, queued in pushes.items():
                for text in queued:
                    await session.push(text)
        while self._to_close:
            closing, self._to_close = self._to_close, []
            for session, code in closing:
                await session.close_with(code)
