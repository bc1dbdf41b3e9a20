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

import asyncio
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

import config.asgi
from accounts.tickets import issue_ticket
from groups.actions import add_member, create_group
from relay import hub

IDENTIFIER = "kirimin"


@pytest.fixture(autouse=True)
async def _fresh_hub():
    """After each test: stop this loop's hub, close the sync thread's DB connection, empty the memory layer."""
    yield
    await hub.stop_hub()
    await sync_to_async(connections.close_all)()  # else PostgreSQL keeps the test database busy
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):  # never FLUSH a Redis that others may share
        await layer.flush()


# --- the scene ----------------------------------------------------------------------------------
def group_with(owner, *members, private=False, name=None):
    """A group owned by `owner` with `members` added, all through the domain actions."""
    group = create_group(actor=owner, name=name or ("secret" if private else "open"), is_private=private)
    for member in members:
        add_member(actor=owner, group=group, target=member)
    return group


@pytest.fixture
def public_group(alice, bob):
    return group_with(alice, bob, name="open")


@pytest.fixture
def private_group(alice, bob):
    return group_with(alice, bob, private=True, name="secret")


def user_shape(user):
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}


# --- sync code from async tests ----------------------------------------------------------------
async def call(fn, *args, **kwargs):
    """Run sync (ORM) code off the event loop; its after-commit sends run on the loop."""
    return await sync_to_async(fn)(*args, **kwargs)


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
@pytest.fixture
async def sockets():
    """Every communicator a test opens; disconnected afterwards (before the hub stops)."""
    opened = []
    yield opened
    for comm in opened:
        try:
            await comm.disconnect(timeout=2)
        except Exception:  # already closed, or cancelled by a failed receive
            pass


def socket_path(ticket, since=None):
    path = f"/ws/?id={ticket}"
    return path if since is None else f"{path}&since={since}"


@pytest.fixture
def connect(sockets):
    """`await connect(user, since=None)`: a signed-in socket whose `connection` frame was read (`comm.first`)."""

    async def connect_(user, *, since=None):
        ticket = await sync_to_async(issue_ticket)(user)
        comm = WebsocketCommunicator(config.asgi.application, socket_path(ticket.id, since))
        sockets.append(comm)
        connected, code = await comm.connect(timeout=5)
        assert connected, f"handshake refused with {code}"
        first = await recv(comm, timeout=5)
        assert first["type"] == "connection", first
        assert first["user"]["id"] == user.pk, first
        comm.first = first
        return comm

    return connect_


async def send(comm, type_, **fields):
    """Send a client frame of `type_` with the identifier; `fields` may include `ref`."""
    await comm.send_to(text_data=json.dumps({"identifier": IDENTIFIER, "type": type_, **fields}))


async def recv(comm, timeout=3):
    """The next frame, decoded; fails if the socket closed instead."""
    message = await comm.receive_output(timeout)
    assert message["type"] == "websocket.send", message
    frame = json.loads(message["text"])
    assert frame["identifier"] == IDENTIFIER, frame
    return frame


async def expect(comm, type_, timeout=3, **fields):
    """The next frame must be `type_` and carry `fields`; return it."""
    frame = await recv(comm, timeout)
    assert frame["type"] == type_, frame
    for key, value in fields.items():
        assert frame.get(key) == value, (key, frame)
    return frame


async def recv_types(comm, *types, timeout=3):
    """Read len(types) frames, in any order (an ack races the event it caused); return them by type."""
    frames = [await recv(comm, timeout) for _ in types]
    assert sorted(f["type"] for f in frames) == sorted(types), frames
    return {f["type"]: f for f in frames}


async def nothing(*comms, timeout=0.3):
    """Assert nothing arrives on any of `comms` for `timeout` seconds (checked together)."""
    results = await asyncio.gather(*(comm.receive_nothing(timeout=timeout) for comm in comms))
    for comm, quiet in zip(comms, results, strict=True):
        if not quiet:
            raise AssertionError(f"expected nothing, got {comm.output_queue.get_nowait()}")


async def still_alive(comm):
    """The socket still answers a ping."""
    await send(comm, "ping", ref="alive")
    frame = await recv(comm)
    assert frame["type"] == "pong" and frame.get("ref") == "alive", frame
