"""Posts test helpers: groups and posts made through the domain actions, and real sockets.

The scene: alice owns a public group and a private group, bob is a member of
both, charlie belongs to neither. `make_post(author, group=None)` writes a post
through `posts.actions.create_post`. `connect(user)` opens a socket against the
real ASGI app with a fresh one-time ticket (anonymous without a user), checks
the `connection` frame, and is disconnected after the test; the event loop's hub
is stopped after every test so nothing leaks into the next.
"""

import asyncio
import gc
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

import config.asgi
from accounts.tickets import issue_ticket
from groups.actions import add_member, create_group
from posts.actions import create_post
from relay import hub, notify

IDENTIFIER = "kirimin"


@pytest.fixture(scope="session", autouse=True)
def _collect_stray_connections(django_db_setup):
    """Before the test database is dropped, collect the connections of finished worker threads.

    The relay runs actions on pooled threads; their connections become garbage in
    reference cycles, and until collected PostgreSQL refuses to drop the test database.
    """
    yield
    gc.collect()


@pytest.fixture(autouse=True)
async def _fresh_hub():
    """After each test: stop this loop's hub, empty the in-memory layer, close the sync thread's DB connection."""
    yield
    await hub.stop_hub()
    await sync_to_async(connections.close_all)()  # else PostgreSQL keeps the test database busy
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):  # never FLUSH a Redis that others may share
        await layer.flush()


# --- the scene ----------------------------------------------------------------------------------
def group_with(owner, *members, private=False, name=None):
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


@pytest.fixture
def make_post(db):
    def make(author, group=None, content="hello"):
        return create_post(actor=author, content=content, group=group)

    return make


# --- events ---------------------------------------------------------------------------------------
@pytest.fixture
def sent_events(monkeypatch, django_capture_on_commit_callbacks):
    """What actions relay, with its audience: `with sent_events.capture(): ...` then read `sent_events`.

    Each entry is the keyword arguments `relay.notify.send_event_rollback_unsafe` got
    (event, users, groups, channels, ...), recorded when the transaction commits.
    """

    class Sent(list):
        def capture(self):
            return django_capture_on_commit_callbacks(execute=True)

        def of_type(self, type_):
            return [kwargs for kwargs in self if kwargs["event"]["type"] == type_]

    sent = Sent()

    async def record(**kwargs):
        sent.append(kwargs)

    monkeypatch.setattr(notify, "send_event_rollback_unsafe", record)
    return sent


# --- sockets ----------------------------------------------------------------------------------
@pytest.fixture
async def connect():
    """`await connect(user)` -> a signed-in communicator past its `connection` frame (anonymous if None)."""
    opened = []

    async def connect_(user=None):
        path = "/ws/"
        if user is not None:
            ticket = await sync_to_async(issue_ticket)(user)
            path = f"/ws/?id={ticket.id}"
        comm = WebsocketCommunicator(config.asgi.application, path)
        opened.append(comm)
        connected, code = await comm.connect(timeout=5)
        assert connected, f"handshake refused with {code}"
        first = await recv(comm, timeout=5)
        assert first["type"] == "connection", first
        assert (first["user"] or {}).get("id") == (user.pk if user else None), first
        comm.first = first
        return comm

    yield connect_
    for comm in opened:
        try:
            await comm.disconnect(timeout=2)
        except Exception:  # already closed, or its task was cancelled by a failed receive
            pass


async def send(comm, type_, **fields):
    await comm.send_to(text_data=json.dumps({"identifier": IDENTIFIER, "type": type_, **fields}))


async def recv(comm, timeout=2):
    """The next frame, decoded; fails if the socket closed instead."""
    message = await comm.receive_output(timeout)
    assert message["type"] == "websocket.send", message
    frame = json.loads(message["text"])
    assert frame["identifier"] == IDENTIFIER, frame
    return frame


async def recv_types(comm, *types, timeout=2):
    """Read len(types) frames in any order; assert their types; return them by type."""
    frames = [await recv(comm, timeout) for _ in types]
    assert sorted(f["type"] for f in frames) == sorted(types), frames
    return {f["type"]: f for f in frames}


async def nothing(*comms, timeout=0.3):
    """Assert that none of `comms` receives anything for `timeout` seconds."""
    await asyncio.sleep(timeout)
    for comm in comms:
        if not comm.output_queue.empty():
            raise AssertionError(f"expected nothing, got {comm.output_queue.get_nowait()}")


async def subscribe(comm, channel):
    await send(comm, "subscribe", channel=channel, ref="sub")
    frame = await recv(comm)
    assert frame["type"] == "ack" and frame["subscribed"] == channel, frame


def call(fn, *args, **kwargs):
    """Run sync code (ORM, actions, the REST client) off the event loop."""
    return sync_to_async(fn)(*args, **kwargs)


def settle(seconds=0.05):
    """Let the hub's receive loop apply membership changes."""
    return asyncio.sleep(seconds)
