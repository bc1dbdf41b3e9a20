"""The `kick` frame (SPEC §6): answered with `ack`, and acted as the socket's user, whatever
the frame claims.

What a kick relays is in tests/groups/actions/test_kick_member.py (once through this frame,
once through REST); the frame's validation is with every frame's, in tests/relay/test_frames.py.
"""

import pytest

from groups import actions as group_actions
from tests.sockets import call, recv, recv_types, send, user_shape

pytestmark = pytest.mark.django_db(transaction=True)


async def test_spoofed_by_is_ignored_in_kick(connect, alice, bob, charlie):
    group = await call(group_actions.create_group, actor=alice, name="Chess")
    await call(group_actions.join_group, actor=bob, group=group)
    kicked = await connect(bob)
    comm = await connect(alice)
    await send(comm, "kick", groupid=group.pk, userid=bob.pk, by=charlie.pk, ref="k")
    frames = await recv_types(comm, "ack", "kick")
    assert frames["kick"]["by"]["id"] == alice.pk
    assert (await recv(kicked))["by"]["id"] == alice.pk


async def test_the_kick_frame_ignores_a_forged_actor(room):
    r = room
    await send(r.a, "kick", groupid=r.group.pk, userid=r.bob.pk, by=r.charlie.pk, ref="k")
    frames = await recv_types(r.a, "ack", "kick")
    assert frames["kick"]["by"] == user_shape(r.alice)
