"""Write one pre-built WebSocket frame to many sockets.

Through ASGI every `websocket.send` is framed again for every socket: for a group
of 1000 members that is 1000 UTF-8 encodes and 1000 framings of the same text,
and an awaited send per socket. The hub instead builds the frame once per event
(`frame`) and hands the same bytes to each local socket's transport, for the two
servers Kirimin runs on:

- daphne: through autobahn's own broadcast path (`sendData`, what
  `sendPreparedMessage` does), unless permessage-deflate was negotiated;
- uvicorn's sans-io websockets protocol: `transport.write`, only while the
  connection is open and no extension was negotiated.

Any other server, or any other case, gets None from `raw_sender` and the hub
falls back to plain ASGI sends. Server frames are never masked (RFC 6455 §5.1),
so one byte string is valid for every client.
"""

import functools
import struct

from django.conf import settings

try:
    from daphne.server import Server as DaphneServer
    from daphne.ws_protocol import WebSocketProtocol as DaphneWebSocket
except ImportError:  # pragma: no cover
    DaphneServer = DaphneWebSocket = None
try:
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from websockets.protocol import State
except ImportError:  # pragma: no cover - uvicorn is optional
    WebSocketsSansIOProtocol = None

WRITTEN, CLOSED, SLOW = "written", "closed", "slow"


def frame(text: str) -> bytes:
    """One unmasked, final text frame carrying `text`."""
    payload = text.encode()
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x81, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x81, 126, n)
    else:
        header = struct.pack("!BBQ", 0x81, 127, n)
    return header + payload


def _twisted_buffered(transport):
    """Bytes a Twisted TCP transport holds unwritten (what `FileDescriptor.write` queued)."""
    try:
        return len(transport.dataBuffer) - transport.offset + transport._tempDataLen
    except AttributeError:  # another transport (TLS, a test double): no figure, no limit
        return 0


def _daphne_writer(protocol):
    limit = settings.RELAY_MAX_SEND_BUFFER

    def write(data, frames):
        if protocol.state != protocol.STATE_OPEN:
            return CLOSED
        if _twisted_buffered(protocol.transport) > limit:
            return SLOW  # the client stopped reading: don't let its buffer grow without bound
        if protocol._perMessageCompress is None:
            protocol.sendData(data)
        else:  # compression negotiated: let autobahn frame (and compress) each message
            for _frame, text in frames:
                protocol.sendMessage(text.encode(), False)
        return WRITTEN

    return write


def _uvicorn_writer(protocol):
    limit = settings.RELAY_MAX_SEND_BUFFER

    def write(data, frames):
        transport = protocol.transport
        if protocol.close_sent or protocol.conn.state is not State.OPEN or transport.is_closing():
            return CLOSED
        if transport.get_write_buffer_size() > limit:
            return SLOW  # the client stopped reading: don't let its buffer grow without bound
        transport.write(data)
        return WRITTEN

    return write


def _daphne_protocol(send):
    if DaphneServer is not None and isinstance(send, functools.partial) and send.args:
        server, protocol = getattr(send.func, "__self__", None), send.args[0]
        if isinstance(server, DaphneServer) and isinstance(protocol, DaphneWebSocket):
            return protocol
    return None


def close_directly(send, code):
    """Close with a code daphne cannot send through ASGI; True if done here.

    Autobahn's `sendClose` (what daphne calls for `websocket.close`) accepts only
    1000 and 3000-4999 and raises on anything else, so a 1009 (frame too big),
    1011 or 1013 would leave the socket open and silent. Its `sendCloseFrame`
    sends any code; autobahn then runs the closing handshake as usual.
    """
    if code == 1000 or 3000 <= code <= 4999:
        return False
    protocol = _daphne_protocol(send)
    if protocol is None:
        return False
    if protocol.state == protocol.STATE_OPEN:
        protocol.sendCloseFrame(code=code, isReply=False)
    return True


def raw_sender(send):
    """A `write(data, frames)` for the socket behind the ASGI `send`, or None.

    `data` is one or more frames built by `frame`, joined; `frames` the (frame, text)
    pairs it holds, for a server that must frame each message itself. It returns
    WRITTEN, CLOSED (nothing written) or SLOW (the client stopped reading)."""
    protocol = _daphne_protocol(send)
    if protocol is not None:
        return _daphne_writer(protocol)
    if WebSocketsSansIOProtocol is not None:
        protocol = getattr(send, "__self__", None)
        # An extension (permessage-deflate) is negotiated before the app runs; it needs
        # each message framed (and compressed) by the protocol: the ASGI path does that.
        if isinstance(protocol, WebSocketsSansIOProtocol) and not protocol.conn.extensions:
            return _uvicorn_writer(protocol)
    return None
