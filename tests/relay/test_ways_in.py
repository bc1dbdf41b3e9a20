"""Ways into the relay (SPEC §6): ticket, Bearer header, `auth` frame; every refusal and its close code."""

import asyncio
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from rest_framework_simplejwt.tokens import AccessToken

from accounts.tickets import issue_ticket
from groups import actions as group_actions
from groups import messaging as group_messaging
from tests.relay.conftest import bearer, token_for
from tests.sockets import call, closed_with, error_of, recv, recv_types, send, still_alive

pytestmark = pytest.mark.django_db(transaction=True)

USER_KEYS = {"id", "username", "display_name"}


def expired_access_token(user):
    token = AccessToken.for_user(user)
    token.set_exp(lifetime=-timedelta(seconds=5))
    return str(token)


async def deactivate(user):
    user.is_active = False
    await sync_to_async(user.save)(update_fields=["is_active"])


# --- the ways in ------------------------------------------------------------------------------
async def test_ticket_signs_the_socket_in_and_lists_its_groups(connect, alice, bob):
    group = await call(group_actions.create_group, actor=alice, name="Chess")
    comm = await connect(alice)
    assert comm.first["user"] == {"id": alice.pk, "username": "alice", "display_name": "Alice"}
    assert comm.first["groups"] == [group.pk]
    assert comm.first["client_id"]
    assert (await connect(bob)).first["groups"] == []


async def test_bearer_header_signs_the_socket_in(connect, alice):
    comm = await connect(alice, path="/ws/", headers=bearer(await token_for(alice)))
    assert set(comm.first["user"]) >= USER_KEYS


async def test_anonymous_socket_gets_a_connection_frame_without_user(connect):
    comm = await connect()
    assert comm.first["user"] is None and comm.first["groups"] == []


async def test_auth_frame_with_access_token_signs_in(connect, alice, bob):
    comm = await connect()
    await send(comm, "auth", token=await token_for(bob), ref="a1")
    ack = await recv(comm)
    assert ack["type"] == "ack" and ack["ref"] == "a1", ack
    assert ack["user"]["id"] == bob.pk and ack["client_id"] == comm.first["client_id"]
    # Signed in for real: a direct message to bob now reaches this socket.
    await call(group_messaging.send_message, actor=alice, body="hi", to_id=bob.pk)
    assert (await recv(comm))["message"] == "hi"


@pytest.mark.parametrize("prefix", ["Bearer ", "bearer  "])
async def test_auth_frame_takes_a_token_as_an_authorization_header_carries_it(connect, alice, prefix):
    """Clients written from the kirimin socket doc send `"token": "Bearer <jwt>"`."""
    comm = await connect()
    await send(comm, "auth", token=prefix + await token_for(alice), ref="b")
    ack = await recv(comm)
    assert ack["type"] == "ack" and ack["user"]["id"] == alice.pk, ack


async def test_auth_frame_with_ticket_signs_in(connect, bob):
    comm = await connect()
    ticket = await sync_to_async(issue_ticket)(bob)
    await send(comm, "auth", token=ticket.id, ref="t1")
    ack = await recv(comm)
    assert ack["type"] == "ack" and ack["ref"] == "t1" and ack["user"]["id"] == bob.pk, ack
    await send(comm, "typing", to=bob.pk)  # allowed only when signed in: no `unauthorized`
    await still_alive(comm)


async def test_auth_frame_on_a_signed_in_socket_is_forbidden(connect, alice, bob):
    comm = await connect(alice)
    await send(comm, "auth", token=await token_for(bob), ref="again")
    await error_of(comm, "forbidden", ref="again")
    await still_alive(comm)


# --- 4401: bad, expired or reused credentials -------------------------------------------------
async def test_unknown_ticket_closes_4401(open_socket):
    comm, connected, _ = await open_socket("/ws/?id=" + "x" * 43)
    assert connected
    assert await closed_with(comm) == 4401


async def test_malformed_ticket_closes_4401(open_socket):
    comm, _, _ = await open_socket("/ws/?id=not%20a%20ticket")
    assert await closed_with(comm) == 4401


async def test_reused_ticket_closes_4401(open_socket, connect, alice):
    ticket = await sync_to_async(issue_ticket)(alice)
    await connect(alice, path=f"/ws/?id={ticket.id}")
    comm, connected, _ = await open_socket(f"/ws/?id={ticket.id}")
    assert connected
    assert await closed_with(comm) == 4401


async def test_expired_ticket_closes_4401(open_socket, settings, alice):
    settings.SOCKET_TICKET_TTL = 1
    ticket = await sync_to_async(issue_ticket)(alice)
    await asyncio.sleep(1.6)
    comm, _, _ = await open_socket(f"/ws/?id={ticket.id}")
    assert await closed_with(comm) == 4401


@pytest.mark.parametrize("header", [b"Bearer not-a-jwt", b"Bearer a.b.c", b"Basic YWxpY2U6cHc=", b"Bearer "])
async def test_malformed_bearer_closes_4401(open_socket, header):
    comm, connected, _ = await open_socket("/ws/", [(b"authorization", header)])
    assert connected
    assert await closed_with(comm) == 4401


async def test_expired_bearer_closes_4401(open_socket, alice):
    comm, _, _ = await open_socket("/ws/", bearer(expired_access_token(alice)))
    assert await closed_with(comm) == 4401


async def test_bearer_of_a_deleted_user_closes_4401(open_socket, make_user):
    ghost = await sync_to_async(make_user)("ghost")
    token = await token_for(ghost)
    await sync_to_async(ghost.delete)()
    comm, _, _ = await open_socket("/ws/", bearer(token))
    assert await closed_with(comm) == 4401


async def test_an_access_token_of_a_session_that_logged_out_closes_4401(open_socket, connect, alice):
    from accounts import sessions

    refresh = await sync_to_async(sessions.start)(alice)
    access = str(refresh.access_token)
    comm, _, _ = await open_socket("/ws/", bearer(access))
    await recv_types(comm, "connection")
    await sync_to_async(sessions.end)(refresh)
    comm, _, _ = await open_socket("/ws/", bearer(access))
    assert await closed_with(comm) == 4401
    comm = await connect()
    await send(comm, "auth", token=access)
    assert await closed_with(comm) == 4401


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "x" * 43, "Bearer ", "Bearer a.b.c"])
async def test_bad_token_in_auth_frame_closes_4401(connect, token):
    comm = await connect()
    await send(comm, "auth", token=token)
    assert await closed_with(comm) == 4401


async def test_expired_token_in_auth_frame_closes_4401(connect, alice):
    comm = await connect()
    await send(comm, "auth", token=expired_access_token(alice))
    assert await closed_with(comm) == 4401


async def test_reused_ticket_in_auth_frame_closes_4401(connect, alice):
    ticket = await sync_to_async(issue_ticket)(alice)
    await connect(alice, path=f"/ws/?id={ticket.id}")
    comm = await connect()
    await send(comm, "auth", token=ticket.id)
    assert await closed_with(comm) == 4401


# --- 4403: a deactivated user -------------------------------------------------------------------
async def test_inactive_user_via_ticket_closes_4403(open_socket, bob):
    ticket = await sync_to_async(issue_ticket)(bob)
    await deactivate(bob)
    comm, connected, _ = await open_socket(f"/ws/?id={ticket.id}")
    assert connected
    assert await closed_with(comm) == 4403


async def test_inactive_user_via_bearer_closes_4403(open_socket, bob):
    token = await token_for(bob)
    await deactivate(bob)
    comm, _, _ = await open_socket("/ws/", bearer(token))
    assert await closed_with(comm) == 4403


async def test_inactive_user_via_auth_frame_closes_4403(connect, bob):
    token = await token_for(bob)
    await deactivate(bob)
    comm = await connect()
    await send(comm, "auth", token=token)
    assert await closed_with(comm) == 4403


# --- 4429: too many sockets for one user ----------------------------------------------------------
async def test_socket_cap_refuses_the_newest_with_4429(settings, connect, open_socket, bob, charlie):
    settings.RELAY_MAX_SOCKETS_PER_USER = 2
    first, second = await connect(bob), await connect(bob)
    ticket = await sync_to_async(issue_ticket)(bob)
    third, connected, _ = await open_socket(f"/ws/?id={ticket.id}")
    assert connected
    assert await closed_with(third) == 4429
    await still_alive(first)
    await still_alive(second)
    await connect(charlie)  # the cap is per user


async def test_socket_cap_frees_a_place_on_disconnect(settings, connect, bob):
    settings.RELAY_MAX_SOCKETS_PER_USER = 1
    first = await connect(bob)
    await first.disconnect()
    await connect(bob)


async def test_socket_cap_applies_to_the_auth_frame(settings, connect, bob):
    settings.RELAY_MAX_SOCKETS_PER_USER = 1
    await connect(bob)
    comm = await connect()
    await send(comm, "auth", token=await token_for(bob))
    assert await closed_with(comm) == 4429


# --- Origin ----------------------------------------------------------------------------------------
async def test_foreign_origin_is_refused(open_socket, alice):
    ticket = await sync_to_async(issue_ticket)(alice)
    comm, connected, _ = await open_socket(f"/ws/?id={ticket.id}", [(b"origin", b"http://evil.example")])
    assert not connected


@pytest.mark.parametrize("origin", [b"http://evil.example", b"null", b"http://localhost.evil.example"])
async def test_foreign_origin_is_refused_even_anonymously(open_socket, origin):
    _, connected, _ = await open_socket("/ws/", [(b"origin", origin)])
    assert not connected


async def test_allowed_origin_is_let_in(connect, alice):
    await connect(alice)  # no Origin at all (a native client)
    await connect(alice, headers=[(b"origin", b"http://localhost:8000")])


async def test_an_origin_on_another_port_of_the_same_host_is_refused(open_socket, connect, alice):
    host = [(b"host", b"localhost:8000")]
    _, connected, _ = await open_socket("/ws/", [*host, (b"origin", b"http://localhost:9999")])
    assert not connected
    await connect(alice, headers=[*host, (b"origin", b"http://localhost:8000")])
    # Behind a proxy: no port on either side is the scheme's default.
    await connect(alice, headers=[(b"host", b"localhost"), (b"origin", b"https://localhost")])


async def test_trusted_origin_is_let_in(settings, connect):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.kirimin.example"]
    await connect(headers=[(b"origin", b"https://app.kirimin.example")])


async def test_direct_message_reaches_a_bearer_socket(connect, alice, bob):
    comm = await connect(bob, path="/ws/", headers=bearer(await token_for(bob)))
    sender = await connect(alice)
    await send(sender, "sendmessage", to=bob.pk, message="over bearer", ref="m")
    await recv_types(sender, "ack", "sendmessage")
    assert (await recv(comm))["message"] == "over bearer"
