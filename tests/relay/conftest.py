"""Relay test helpers: open sockets against the real ASGI app, send and read frames.

`connect(user)` opens a socket with a fresh one-time ticket (or anonymously, or
with the `path`/`headers` given), asserts the first frame is `connection`, and
returns the communicator with that frame as `comm.first`. Every socket a test
opens is disconnected after it, and the event loop's hub is stopped, so no test
leaks sockets, layer groups or presence into the next.
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
from relay import hub
from tests.conftest import access_token

IDENTIFIER = "kirimin"


@pytest.fixture(autouse=True)
async def _fresh_hub():
    """After each test: stop this loop's hub, empty the in-memory layer, close worker-thread connections."""
    yield
    await hub.stop_hub()
    # The consumer and `sync_to_async` share one worker thread whose PostgreSQL connection
    # (CONN_MAX_AGE) would otherwise outlive the test and block dropping the test database.
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
        except Exception:  # already closed or cancelled by a failed receive
            pass


@pytest.fixture
def open_socket(sockets):
    """A communicator that has done the handshake and nothing else: `(comm, connected, code)`."""

    async def open_(path="/ws/", headers=None):
        comm = WebsocketCommunicator(config.asgi.application, path, headers=headers or [])
        sockets.append(comm)
        connected, code = await comm.connect(timeout=5)
        return comm, connected, code

    return open_


@pytest.fixture
def connect(open_socket):
    """A signed-in (or anonymous) socket whose `connection` frame has been read and checked."""

    async def connect_(user=None, *, path=None, headers=None):
        if path is None:
            path = "/ws/"
            if user is not None:  # a fresh ticket; pass path="/ws/" to sign in by header instead
                ticket = await sync_to_async(issue_ticket)(user)
                path = f"/ws/?id={ticket.id}"
        comm, connected, code = await open_socket(path, headers)
        assert connected, f"handshake refused with {code}"
        first = await recv(comm, timeout=5)
        assert first["type"] == "connection", first
        assert set(first) >= {"identifier", "client_id", "user", "groups"}, first
        if user is not None:
            assert first["user"]["id"] == user.pk, first
        else:
            assert first["user"] is None, first
        comm.first = first
        return comm

    return connect_


async def token_for(user):
    """A real access JWT (minting one writes an outstanding refresh token, so off the loop)."""
    return await sync_to_async(access_token)(user)


def bearer(token):
    return [(b"authorization", f"Bearer {token}".encode())]


async def send(comm, type_, **fields):
    """Send a client frame of `type_` with the identifier; `fields` may include `ref`."""
    await comm.send_to(text_data=json.dumps({"identifier": IDENTIFIER, "type": type_, **fields}))


async def send_raw(comm, text=None, data=None):
    await comm.send_to(text_data=text, bytes_data=data)


async def recv(comm, timeout=2):
    """The next frame, decoded; fails if the socket closed instead."""
    message = await comm.receive_output(timeout)
    assert message["type"] == "websocket.send", message
    frame = json.loads(message["text"])
    assert frame["identifier"] == IDENTIFIER, frame
    return frame


async def recv_types(comm, *types, timeout=2):
    """Read len(types) frames, arriving in any order; assert their types; return them by type."""
    frames = [await recv(comm, timeout) for _ in types]
    assert sorted(f["type"] for f in frames) == sorted(types), frames
    return {f["type"]: f for f in frames}


async def closed_with(comm, timeout=3):
    """The close code of the next output, which must be a close."""
    message = await comm.receive_output(timeout)
    assert message["type"] == "websocket.close", message
    return message.get("code")


async def nothing(comm, timeout=0.3):
    """Assert nothing arrives on `comm` for `timeout` seconds."""
    got = await comm.receive_nothing(timeout=timeout)
    if not got:
        message = comm.output_queue.get_nowait()
        raise AssertionError(f"expected nothing, got {message}")


async def error_of(comm, code, ref=None, timeout=2):
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


async def settle(seconds=0.05):
    """Let the hub's receive loop run (membership changes are applied asynchronously)."""
    await asyncio.sleep(seconds)


# --- real server processes (tests/servers.py) ----------------------------------------------------
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the item, so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def server_logs_on_failure(request):
    """When the test fails, print the logs of the server processes it may have used."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        from tests.servers import Server

        for server in Server.started:
            print(f"===== server on port {server.port} (exit {server.process.poll()}) =====\n{server.log()}")


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory):
    """A database for server processes on the stack under test: PostgreSQL + Redis, or SQLite alone."""
    from tests import servers
    from tests.conftest import DATABASE_URL, REDIS_URL

    stack = servers.Stack.prepare(tmp_path_factory.mktemp("e2e"), database_url=DATABASE_URL, redis_url=REDIS_URL)
    yield stack
    stack.drop()


@pytest.fixture(scope="session")
def embedded_stack(tmp_path_factory):
    """The embedded default for server processes: a SQLite file, no Redis, whatever the test stack."""
    from tests import servers

    return servers.Stack.prepare(tmp_path_factory.mktemp("embedded"))
