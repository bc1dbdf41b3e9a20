"""Presence (relay.presence): online while at least one socket is open, on either stack."""

import pytest
from asgiref.sync import sync_to_async

from relay.stream import presence
from relay.stream import publish as notify
from tests.relay.conftest import token_for
from tests.sockets import call, closed_with, recv, send, settle

pytestmark = pytest.mark.django_db(transaction=True)


async def online(*users):
    return await sync_to_async(presence.online_user_ids)([u.pk for u in users])


async def test_user_is_online_while_a_socket_is_open(connect, alice, bob):
    assert await online(alice, bob) == set()
    comm = await connect(alice)
    assert await online(alice, bob) == {alice.pk}
    assert await sync_to_async(presence.is_online)(alice.pk)
    await comm.disconnect()
    assert await online(alice, bob) == set()


async def test_user_stays_online_until_the_last_socket_closes(connect, alice):
    first, second = await connect(alice), await connect(alice)
    await first.disconnect()
    assert await online(alice) == {alice.pk}
    await second.disconnect()
    assert await online(alice) == set()


async def test_anonymous_sockets_make_nobody_online(connect, alice):
    await connect()
    assert await online(alice) == set()


async def test_auth_frame_makes_the_user_online(connect, alice):
    comm = await connect()
    await send(comm, "auth", token=await token_for(alice))
    assert (await recv(comm))["type"] == "ack"
    assert await online(alice) == {alice.pk}


async def test_socket_closed_by_the_server_goes_offline(connect, alice):
    comm = await connect(alice)
    await call(notify.close_user_sockets, alice.pk)
    assert await closed_with(comm) == 4403
    await settle()
    assert await online(alice) == set()


async def test_no_ids_asks_nothing(connect):
    assert await sync_to_async(presence.online_user_ids)([]) == set()


async def test_sockets_admitted_at_once_never_pass_the_cap(settings):
    """Sockets of one user signing in at the same moment, on one process or (with Redis) on
    two: exactly `cap` are admitted. Each holds its place before it waits on anything, and the
    cross-process count is checked and raised in one step in Redis; with a check first and the
    count later, all of them saw room."""
    import asyncio

    from channels.layers import get_channel_layer

    from relay.hub import Hub

    hubs = [Hub(get_channel_layer()) for _ in range(2 if settings.REDIS_URL else 1)]
    try:
        user_id, cap = 987654, 10
        admitted = await asyncio.gather(*(hubs[i % len(hubs)].admit(user_id, cap) for i in range(40)))
        assert admitted.count(True) == cap
        assert sum(hub.registry.local_sockets(user_id) for hub in hubs) == cap
        assert not await hubs[-1].admit(user_id, cap)
        holder = next(hub for hub in hubs if hub.registry.joining.get(user_id))  # the places may all be on one hub
        holder.registry.joined(user_id)  # one of them gave up (closed before attaching)
        await holder.presence.set_local(user_id, holder.registry.local_sockets(user_id))
        assert await hubs[-1].admit(user_id, cap)
    finally:
        for hub in hubs:
            await hub.presence.stop()
