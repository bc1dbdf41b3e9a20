"""Limits on what one client can hold open without signing in: anonymous sockets per address,
channels per socket, and how long an anonymous socket may stay silent."""

import pytest

from groups import actions as group_actions
from groups import messaging as group_messaging
from tests.conftest import group_with
from tests.sockets import call, closed_with, error_of, recv, send, still_alive

pytestmark = pytest.mark.django_db(transaction=True)


async def test_anonymous_sockets_from_one_address_are_capped(connect, open_socket, alice, settings):
    settings.RELAY_MAX_ANONYMOUS_PER_IP = 2
    first, second = await connect(), await connect()
    third, connected, _ = await open_socket()
    assert connected  # accepted, then closed with the documented code
    assert await closed_with(third) == 4429
    await still_alive(first)
    await still_alive(await connect(alice))  # signed-in sockets do not count
    await first.disconnect()
    await still_alive(await connect())  # a place came free
    await still_alive(second)


async def test_a_socket_follows_a_bounded_number_of_channels(connect, alice, bob, settings):
    settings.RELAY_MAX_SUBSCRIPTIONS = 2
    groups = [await call(group_actions.create_group, actor=alice, name=f"g{i}") for i in range(3)]
    comm = await connect(bob)
    for group in groups[:2]:
        await send(comm, "subscribe", channel=f"group:{group.pk}", ref="s")
        assert (await recv(comm))["subscribed"] == f"group:{group.pk}"
    await send(comm, "subscribe", channel=f"group:{groups[2].pk}", ref="x")
    await error_of(comm, "too_many_subscriptions", ref="x")
    await send(comm, "unsubscribe", channel=f"group:{groups[0].pk}", ref="u")
    assert (await recv(comm))["unsubscribed"] == f"group:{groups[0].pk}"
    await send(comm, "subscribe", channel=f"group:{groups[2].pk}", ref="y")
    assert (await recv(comm))["subscribed"] == f"group:{groups[2].pk}"


async def test_a_silent_anonymous_socket_is_closed_and_a_signed_in_one_is_not(connect, alice, settings):
    settings.RELAY_ANONYMOUS_IDLE = 0
    settings.RELAY_STREAM_POLL = 0.1
    group = await call(group_with, alice)
    member = await connect(alice)
    anonymous = await connect()
    assert await closed_with(anonymous, timeout=5) == 4408
    await call(group_messaging.send_message, actor=alice, body="still here", group_id=group.pk)
    assert (await recv(member))["message"] == "still here"
