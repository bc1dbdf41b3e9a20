"""Write one prepared WebSocket frame to many sockets (daphne only).

Through ASGI every `websocket.send` is framed again for each socket: for a group of
1000 members that was 1000 UTF-8 encodes and 1000 autobahn framings of the same
text, and daphne spent ~80 µs per delivery doing it. Autobahn (under daphne) has
a broadcast API for exactly this case: `prepareMessage` frames a payload once and
`sendPreparedMessage` writes those bytes to each connection (falling back to
normal framing where compression was negotiated). This module finds the daphne
protocol behind an ASGI `send` callable so the hub can use it; under any other
server `raw_sender` answers None and the hub uses plain ASGI sends.
"""

import functools

try:
    from autobahn.websocket.protocol import PreparedMessage
    from daphne.server import Server as DaphneServer
    from daphne.ws_protocol import WebSocketProtocol as DaphneWebSocket
except ImportError:  # pragma: no cover - daphne is a dependency, but stay server-neutral
    DaphneServer = None


def prepare(text: str):
    """The frame for `text`, built once per event."""
    return PreparedMessage(text.encode(), False, False, False)


def raw_sender(send):
    """A function writing a prepared frame to the socket behind `send`, or None."""
    if DaphneServer is None or not isinstance(send, functools.partial) or not send.args:
        return None
    server, protocol = getattr(send.func, "__self__", None), send.args[0]
    if not isinstance(server, DaphneServer) or not isinstance(protocol, DaphneWebSocket):
        return None

    def write(prepared):
        if protocol.state != protocol.STATE_OPEN:
            return False
        protocol.sendPreparedMessage(prepared)
        return True

    return write
