"""Relay test helpers: open sockets against the real ASGI app, send and read frames.

`connect(user)` opens a socket with a fresh one-time ticket (or anonymously, or
with the `path`/`headers` given), asserts the first frame is `connection`, and
returns the communicator with that frame as `comm.first`. Every socket a test
opens is disconnected after it, and the event loop's hub is stopped, so no test
leaks sockets, layer groups or presence into the next.
"""


from asgiref.sync import sync_to_async

from tests.conftest import access_token
from tests.sockets import (  # noqa: F401 - fixtures and helpers this suite's tests use
    IDENTIFIER,
    _fresh_hub,
    closed_with,
    connect,
    error_of,
    nothing,
    open_socket,
    recv,
    recv_types,
    send,
    send_raw,
    settle,
    sockets,
    still_alive,
)


async def token_for(user):
    """A real access JWT (minting one writes an outstanding refresh token, so off the loop)."""
    return await sync_to_async(access_token)(user)


def bearer(token):
    return [(b"authorization", f"Bearer {token}".encode())]
