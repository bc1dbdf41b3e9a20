"""Sockets in tests: a pytest plugin (registered once, by tests/conftest.py) and its helpers.

The fixtures (`sockets`, `open_socket`, `connect`, `aapi`, `room`, and the autouse
`_fresh_hub`) reach every test without an import; tests import the helpers (`send`,
`recv`, `expect`, `nothing`, `call`, `rest`, ...) from here. `connect(user)` opens a
socket with a fresh one-time ticket (anonymous with no user; or the `path` and
`headers` given), checks that the first frame is `connection` for that user, and
returns the communicator with that frame as `comm.first`. Every socket a test opens
is disconnected after it, and after every async test the loop's hub is stopped, so
no test leaks sockets, layer groups or presence into the next.

Async tests reach the ORM, actions and the REST client through `call`, which
then sends the events the actions committed from the test's event loop, as the
relay's handlers do.
"""

import asyncio
import itertools
import json
from types import SimpleNamespace

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections
from pytest_asyncio import is_async_test

import config.asgi
from accounts.tickets import issue_ticket
from relay import hub
from relay.stream import publish
from tests.conftest import group_with, ok

IDENTIFIER = "kirimin"


# --- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _fresh_hub(request):
    """Every async test ends with a fresh hub (`_stop_hub`). A sync test has no loop of its own
    for a hub to run on (it never opens a communicator), so there is nothing to stop."""
    if is_async_test(request.node):
        request.getfixturevalue("_stop_hub")


@pytest.fixture
async def _stop_hub():
    """After the test: stop this loop's hub, drop what a test's actions left unsent, close
    worker-thread DB connections, empty the memory layer."""
    yield
    await hub.stop_hub()
    await sync_to_async(publish.take)()
    # Worker threads' PostgreSQL connections would otherwise keep the test database busy.
    await sync_to_async(connections.close_all)()
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):  # never FLUSH a Redis shared with server processes
        await layer.flush()


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


@pytest.fixture
def open_socket(sockets):
    """`await open_socket(path, headers)`: (communicator, connected, close code) after the handshake."""

    async def open_(path="/ws/", headers=None):
        comm = WebsocketCommunicator(config.asgi.application, path, headers=headers or [])
        sockets.append(comm)
        connected, code = await comm.connect(timeout=5)
        return comm, connected, code

    return open_


@pytest.fixture
def connect(open_socket):
    """`await connect(user=None, *, since=None, resume=None, path=None, headers=None)`: a checked, open socket."""

    async def connect_(user=None, *, since=None, resume=None, path=None, headers=None):
        if path is None:
            path = "/ws/"
            if user is not None:  # a fresh ticket; pass path="/ws/" to sign in by header instead
                ticket = await sync_to_async(issue_ticket)(user)
                path = f"/ws/?id={ticket.id}"
            for name, value in (("since", since), ("resume", resume)):
                if value is not None:
                    path += ("&" if "?" in path else "?") + f"{name}={value}"
        comm, connected, code = await open_socket(path, headers)
        assert connected, f"handshake refused with {code}"
        first = await recv(comm, timeout=5)
        assert first["type"] == "connection", first
        assert set(first) >= {"identifier", "client_id", "user", "groups"}, first
        assert (first["user"] or {}).get("id") == (user.pk if user is not None else None), first
        comm.first = first
        return comm

    return connect_


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


# --- the room: a group and its sockets -----------------------------------------------------------
# A test of an action run once through REST and once through its socket frame.
BOTH_WAYS = pytest.mark.parametrize("via", ["rest", "frame"])


@pytest.fixture
async def room(connect, aapi, alice, bob, charlie, make_user):
    """alice owns a public group with bob as a member; bob has two sockets; charlie and dave
    are outsiders with one socket each. `r.api[username]`: their REST clients (not dave's)."""
    dave = await call(make_user, "dave")
    group = await call(group_with, alice, bob, name="open")
    r = SimpleNamespace(group=group, alice=alice, bob=bob, charlie=charlie, dave=dave)
    r.api = {u.username: await aapi(u) for u in (alice, bob, charlie)}
    r.a = await connect(alice)
    r.b1, r.b2 = await connect(bob), await connect(bob)
    r.c = await connect(charlie)
    r.d = await connect(dave)
    assert r.a.first["groups"] == r.b1.first["groups"] == [group.pk] and r.c.first["groups"] == []
    return r


def group_url(r, verb):
    return f"/api/groups/{r.group.pk}/{verb}"


async def group_message_from_alice(r, text):
    return ok(await rest(r.api["alice"], "post", group_url(r, "messages/"), {"message": text}), 201)


# --- frames ------------------------------------------------------------------------------------
async def send(comm, type_, **fields):
    """Send a client frame of `type_` with the identifier; `fields` may include `ref`."""
    await comm.send_to(text_data=json.dumps({"identifier": IDENTIFIER, "type": type_, **fields}))


async def send_raw(comm, text=None, data=None):
    await comm.send_to(text_data=text, bytes_data=data)


async def recv(comm, timeout=3):
    """The next frame, decoded; fails if the socket closed instead."""
    message = await comm.receive_output(timeout)
    assert message["type"] == "websocket.send", message
    frame = json.loads(message["text"])
    assert frame["identifier"] == IDENTIFIER, frame
    return frame


def unnumbered(frame):
    """A stateful frame without its stream position (`seq`, `streams`), which it must carry."""
    assert isinstance(frame.get("seq"), int) and isinstance(frame.get("streams"), dict), frame
    return {k: v for k, v in frame.items() if k not in ("seq", "streams")}


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


_markers = itertools.count(1)


async def nothing(*comms, timeout=3):
    """Assert nothing more arrives on any of `comms`. Observed, not waited for: each socket is
    sent a marker through its process's hub, behind everything published before it (the hub
    applies what it receives in order), and the marker must be the very next thing the socket
    gets. A socket opened without `connect` (no client id known), or that its hub no longer
    holds, gets a quiet window instead."""
    live = await hub.get_hub()
    marked = []
    for comm in comms:
        consumer = live.registry.clients.get((getattr(comm, "first", None) or {}).get("client_id"))
        if consumer is not None:
            # One that connected with `since=`/`resume=` may still be catching up: the hub writes
            # nothing to it before, and it gets everything published meanwhile after.
            deadline = asyncio.get_running_loop().time() + timeout
            while not consumer.ready and not consumer.closed and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.005)
            marked.append(comm)
    text = json.dumps({"identifier": IDENTIFIER, "type": "test.marker", "n": next(_markers)})
    await publish.send_to_clients([comm.first["client_id"] for comm in marked], text)
    for comm in comms:
        if comm not in marked:
            if not await comm.receive_nothing(timeout=0.3):
                raise AssertionError(f"expected nothing, got {comm.output_queue.get_nowait()}")
            continue
        message = await comm.receive_output(timeout)
        if message.get("text") != text:
            raise AssertionError(f"expected nothing, got {message}")


async def closed_with(comm, timeout=3):
    """The close code of the next output, which must be a close."""
    message = await comm.receive_output(timeout)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def error_of(comm, code, ref=None, timeout=3):
    """Read an `error` frame with `code` (and `ref`, if given); return it."""
    frame = await recv(comm, timeout)
    assert frame["type"] == "error" and frame["code"] == code, frame
    assert isinstance(frame["message"], str) and "Traceback" not in frame["message"], frame
    if ref is not None:
        assert frame.get("ref") == ref, frame
    return frame


async def still_alive(comm):
    """The socket still answers a ping."""
    await send(comm, "ping", ref="alive")
    frame = await recv(comm)
    assert frame == {"identifier": IDENTIFIER, "type": "pong", "ref": "alive"}, frame


async def subscribe(comm, channel, ref="sub"):
    await send(comm, "subscribe", channel=channel, ref=ref)
    assert await recv(comm) == {"identifier": IDENTIFIER, "type": "ack", "ref": ref, "subscribed": channel}


async def settle(seconds=0.05):
    """Let the hub's receive loop run (membership changes are applied asynchronously)."""
    await asyncio.sleep(seconds)


async def call(fn, *args, **kwargs):
    """Run sync code (ORM, actions, the test client) off the event loop, then send the events it
    committed from the loop, as the relay's handlers do (`relay.stream.publish.take`)."""
    def run_and_take():
        try:
            return fn(*args, **kwargs), None, publish.take()
        except Exception as exc:
            return None, exc, publish.take()

    result, error, sends = await sync_to_async(run_and_take)()
    await publish.send(sends)
    if error is not None:
        raise error
    return result


def user_shape(user):
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}
