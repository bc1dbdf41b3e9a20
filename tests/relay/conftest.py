"""Relay test helpers: signing a socket in with a bearer token instead of a ticket.

The sockets themselves (`connect`, `open_socket`, the frame helpers) come from
the `tests.sockets` plugin.
"""

from asgiref.sync import sync_to_async

from tests.conftest import access_token


async def token_for(user):
    """A real access JWT (minting one writes an outstanding refresh token, so off the loop)."""
    return await sync_to_async(access_token)(user)


def bearer(token):
    return [(b"authorization", f"Bearer {token}".encode())]
