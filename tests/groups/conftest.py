"""Groups test helpers: REST from async tests.

The scene (alice, bob, charlie, `public_group`, `private_group`, `group_with`)
comes from the root conftest, the sockets (`connect`, `call`, the frame helpers)
from the `tests.sockets` plugin.

Async tests reach the REST client through `sync_to_async` (`aapi`, `rest`), so
the actions' after-commit sends run on the test's event loop.
"""

import pytest
from asgiref.sync import sync_to_async


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
