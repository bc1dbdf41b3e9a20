"""Moderation test helpers: a moderator, the admin driven like a browser, and real sockets.

The moderator is a staff user in the data-migrated "Moderators" group, never a
superuser, so every test proves the group's permissions are enough.
Transactional tests empty the database (the migrated group with it), so the
`moderators_group` fixture re-runs that migration's own function.

Admin actions are driven through the changelist exactly as a browser does: the
"Go" POST renders the reason page, which posts back with `post=yes`.

Async tests call the sync test client through `sync_to_async`, so the actions'
after-commit sends run on the test's event loop and reach the sockets opened
there; every socket is disconnected and the loop's hub stopped after each test.
"""

import asyncio
import importlib
import json

import pytest
from asgiref.sync import sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.apps import apps as django_apps
from django.contrib.auth.models import Group as AuthGroup
from django.db import connections
from django.test import Client
from django.urls import reverse

import config.asgi
from accounts.tickets import issue_ticket
from groups.actions import add_member, create_group
from relay import hub

IDENTIFIER = "kirimin"
moderators_migration = importlib.import_module("accounts.migrations.0004_moderators_group")


@pytest.fixture(autouse=True)
async def _fresh_hub():
    """After each test: stop this loop's hub, close the sync thread's DB connection, empty the memory layer."""
    yield
    await hub.stop_hub()
    await sync_to_async(connections.close_all)()  # else PostgreSQL keeps the test database busy
    layer = get_channel_layer()
    if isinstance(layer, InMemoryChannelLayer):  # never FLUSH a Redis that others may share
        await layer.flush()


# --- the cast ------------------------------------------------------------------------------------
@pytest.fixture
def moderators_group(db):
    moderators_migration.create_moderators_group(django_apps, None)
    return AuthGroup.objects.get(name=moderators_migration.GROUP_NAME)


@pytest.fixture
def moderator(make_user, moderators_group):
    user = make_user("mod", display_name="Mod", is_staff=True)
    user.groups.add(moderators_group)
    return user


@pytest.fixture
def desk(moderator):
    """The moderator's browser, signed in to /admin/."""
    client = Client()
    client.force_login(moderator)
    return client


@pytest.fixture
def superdesk(make_user):
    """A superuser's browser, for the pages moderators may not see."""
    client = Client()
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    return client


def group_with(owner, *members, private=False, name="open"):
    group = create_group(actor=owner, name=name, is_private=private)
    for member in members:
        add_member(actor=owner, group=group, target=member)
    return group


def user_shape(user):
    return {"id": user.pk, "username": user.username, "display_name": user.display_name}


# --- the admin -----------------------------------------------------------------------------------
def changelist(model):
    """`changelist("accounts.user")` -> "/admin/accounts/user/"."""
    app, name = model.split(".")
    return reverse(f"admin:{app}_{name}_changelist")


def run_action(client, model, action, rows, reason="Breaks the rules."):
    """Run a moderation action like a moderator: tick `rows`, Go, give a reason, confirm."""
    url, pks = changelist(model), [str(row.pk) for row in rows]
    page = client.post(url, {"action": action, "_selected_action": pks, "index": "0"})
    assert page.status_code == 200, page.status_code
    assert b'name="reason"' in page.content and b'name="post" value="yes"' in page.content, page.content[:2000]
    done = client.post(url, {"action": action, "_selected_action": pks, "post": "yes", "reason": reason})
    assert done.status_code == 302, done.content[:2000]
    return done


def admin_messages(client):
    """The texts of the admin's flash messages, read from the changelist the action redirected to."""
    from django.contrib.messages import get_messages

    response = client.get("/admin/")
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- sync code from async tests ------------------------------------------------------------------
async def call(fn, *args, **kwargs):
    """Run sync (ORM, test client) code off the event loop; its after-commit sends run on the loop."""
    return await sync_to_async(fn)(*args, **kwargs)


# --- sockets -------------------------------------------------------------------------------------
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

    async def open_(path, headers=None):
        comm = WebsocketCommunicator(config.asgi.application, path, headers=headers or [])
        sockets.append(comm)
        connected, code = await comm.connect(timeout=5)
        return comm, connected, code

    return open_


@pytest.fixture
def connect(open_socket):
    """`await connect(user)`: a socket signed in with a fresh ticket, its `connection` frame read."""

    async def connect_(user):
        ticket = await sync_to_async(issue_ticket)(user)
        comm, connected, code = await open_socket(f"/ws/?id={ticket.id}")
        assert connected, f"handshake refused with {code}"
        first = await recv(comm, timeout=5)
        assert first["type"] == "connection" and first["user"]["id"] == user.pk, first
        comm.first = first
        return comm

    return connect_


async def send(comm, type_, **fields):
    await comm.send_to(text_data=json.dumps({"identifier": IDENTIFIER, "type": type_, **fields}))


async def recv(comm, timeout=3):
    """The next frame, decoded; fails if the socket closed instead."""
    message = await comm.receive_output(timeout)
    assert message["type"] == "websocket.send", message
    frame = json.loads(message["text"])
    assert frame["identifier"] == IDENTIFIER, frame
    return frame


async def expect(comm, type_, timeout=3, **fields):
    """The next frame must be `type_` with exactly these `fields` (besides identifier and type)."""
    frame = await recv(comm, timeout)
    assert frame["type"] == type_, frame
    if fields:
        assert {k: v for k, v in frame.items() if k not in ("identifier", "type")} == fields, frame
    return frame


async def recv_types(comm, *types, timeout=3):
    """Read len(types) frames in any order; return them by type."""
    frames = [await recv(comm, timeout) for _ in types]
    assert sorted(f["type"] for f in frames) == sorted(types), frames
    return {f["type"]: f for f in frames}


async def nothing(*comms, timeout=0.3):
    """Assert nothing arrives on any of `comms` for `timeout` seconds."""
    results = await asyncio.gather(*(comm.receive_nothing(timeout=timeout) for comm in comms))
    for comm, quiet in zip(comms, results, strict=True):
        if not quiet:
            raise AssertionError(f"expected nothing, got {comm.output_queue.get_nowait()}")


async def closed_with(comm, timeout=3):
    """The close code of the socket's next output, which must be a close."""
    message = await comm.receive_output(timeout)
    assert message["type"] == "websocket.close", message
    return message.get("code")
