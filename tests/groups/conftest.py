"""Groups test helpers: the scene, REST from async tests, and real sockets.

The scene: alice owns a public group and a private group, bob is a member of
both, charlie belongs to neither. Groups are made through the domain actions.

Sockets are `channels.testing.WebsocketCommunicator`s against the real ASGI app
(middleware included), each signed in with a fresh one-time ticket. `connect`
checks the `connection` frame; every socket is disconnected after the test, and
the event loop's hub is stopped, so nothing leaks into the next test.

Async tests reach the ORM and the REST client through `sync_to_async` (`call`,
`rest`), so the actions' after-commit sends run on the test's event loop.
"""


import pytest
from asgiref.sync import sync_to_async

from tests.conftest import group_with  # noqa: F401 - the suite's tests import it from here
from tests.sockets import (  # noqa: F401 - fixtures and helpers this suite's tests use
    IDENTIFIER,
    _fresh_hub,
    call,
    connect,
    expect,
    nothing,
    open_socket,
    recv,
    recv_types,
    send,
    sockets,
    still_alive,
    user_shape,
)

# --- the scene ----------------------------------------------------------------------------------


# --- sync code from async tests ----------------------------------------------------------------


@pytest.fixture
def aapi(api):
    """`await aapi(user)`: `api(user)` for async tests (minting the JWT writes to the database)."""

    async def client_for(user):
        return await sync_to_async(api)(user)

    return client_for


async def rest(client, method, url, data=None):
    """A REST call from an async test: `await rest(api(bob), "post", url, {...})`."""
    if data is None:
        return await sync_to_async(getattr(client, method))(url)
    return await sync_to_async(getattr(client, method))(url, data, format="json")


# --- sockets -----------------------------------------------------------------------------------


