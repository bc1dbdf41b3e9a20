"""The `connection` frame asked for again (SPEC §6): the same client and user, and the groups
as they are now.

The first `connection` frame, sent on every way in, is in tests/relay/test_ways_in.py; where
a socket's streams start, in tests/relay/test_resume.py.
"""

import pytest

from groups import actions as group_actions
from tests.sockets import call, recv, recv_types, send

pytestmark = pytest.mark.django_db(transaction=True)


async def test_connection_frame_is_sent_again_on_request(connect, alice):
    group = await call(group_actions.create_group, actor=alice, name="Chess")
    comm = await connect(alice)
    await send(comm, "connection", ref="c")
    again = await recv(comm)
    assert again["type"] == "connection" and again["ref"] == "c"
    assert again["client_id"] == comm.first["client_id"]
    assert again["user"] == comm.first["user"] and again["groups"] == [group.pk]


async def test_connection_frame_reflects_groups_joined_since(connect, alice, bob):
    group = await call(group_actions.create_group, actor=alice, name="Chess")
    comm = await connect(bob)
    assert comm.first["groups"] == []
    await send(comm, "join", groupid=group.pk, ref="j")
    await recv_types(comm, "ack", "join")
    await send(comm, "connection")
    assert (await recv(comm))["groups"] == [group.pk]
