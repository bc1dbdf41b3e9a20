"""`groups.actions.kick_member`: what a kick relays and to whom, whichever way it is asked for,
and what the kicked user's sockets no longer get.

The REST endpoint has its own file (tests/groups/api/test_kick.py), so has the `kick` frame
(tests/relay/frames/test_kick.py), and the desk's "remove members", which relays the same
`kick` (tests/moderation/test_remove_member.py).
"""

import pytest

from groups import actions as group_actions
from groups import messaging as group_messaging
from groups.models import Ban
from posts import actions as post_actions
from tests.conftest import ok
from tests.sockets import (
    BOTH_WAYS,
    call,
    error_of,
    expect,
    group_message_from_alice,
    group_url,
    nothing,
    recv,
    recv_types,
    rest,
    send,
    subscribe,
    unnumbered,
    user_shape,
)

pytestmark = pytest.mark.django_db(transaction=True)


@BOTH_WAYS
async def test_kick_reaches_the_members_and_the_kicked_users_sockets(room, via):
    r = room
    if via == "rest":
        body = {"user_id": r.bob.pk, "ban": True}
        assert ok(await rest(r.api["alice"], "post", group_url(r, "kick/"), body))["changed"] is True
        event = await expect(r.a, "kick")
    else:
        await send(r.a, "kick", groupid=r.group.pk, userid=str(r.bob.pk), ban=True, ref="k")
        frames = await recv_types(r.a, "ack", "kick")
        assert frames["ack"]["changed"] is True and frames["ack"]["userid"] == r.bob.pk
        event = frames["kick"]

    assert unnumbered(event) == {"identifier": "kirimin", "type": "kick", "groupid": r.group.pk, "user": user_shape(r.bob),
                     "by": user_shape(r.alice), "ban": True}
    for comm in (r.b1, r.b2):
        assert await expect(comm, "kick") == event
        note = await expect(comm, "notification", kind="kick")
        assert note["data"] == {"groupid": r.group.pk, "by": r.alice.pk, "ban": True}
    await nothing(r.a, r.b1, r.b2, r.c, r.d)
    assert await call(Ban.objects.filter(group=r.group, user=r.bob).exists)

    # The kicked user's sockets receive no more group messages.
    msg = await group_message_from_alice(r, "after the kick")
    assert (await expect(r.a, "sendmessage"))["id"] == msg["id"]
    await nothing(r.b1, r.b2, r.c, r.d)


async def test_kicked_member_gets_kick_then_no_group_messages(connect, chess, alice, bob):
    owner, kicked, kicked_2 = await connect(alice), await connect(bob), await connect(bob)
    assert await call(group_actions.kick_member, actor=alice, group=chess, target=bob) is True
    for comm in (kicked, kicked_2):
        frames = await recv_types(comm, "kick", "notification")
        assert frames["kick"]["user"]["id"] == bob.pk and frames["kick"]["by"]["id"] == alice.pk
        assert frames["notification"]["kind"] == "kick"
    assert (await recv(owner))["type"] == "kick"
    await call(group_messaging.send_message, actor=alice, body="after the kick", group_id=chess.pk)
    assert (await recv(owner))["message"] == "after the kick"
    await nothing(kicked)
    await nothing(kicked_2)


async def test_kicked_member_cannot_send_to_the_group(connect, chess, alice, bob):
    kicked = await connect(bob)
    await call(group_actions.kick_member, actor=alice, group=chess, target=bob, ban=True)
    await recv_types(kicked, "kick", "notification")
    await send(kicked, "sendmessage", groupid=chess.pk, message="still here?", ref="x")
    await error_of(kicked, "forbidden", ref="x")
    await send(kicked, "join", groupid=chess.pk, ref="again")
    await error_of(kicked, "forbidden", ref="again")  # banned


async def test_kicked_member_subscribed_to_a_private_post_stops_receiving_it(connect, secret, alice, bob):
    post = await call(post_actions.create_post, actor=alice, content="members only", group=secret)
    owner, kicked = await connect(alice), await connect(bob)
    await subscribe(kicked, f"post:{post.pk}")
    await call(group_actions.kick_member, actor=alice, group=secret, target=bob)
    await recv_types(kicked, "kick", "notification")
    assert (await recv(owner))["type"] == "kick"
    await call(post_actions.like_post, actor=alice, post=post)
    assert (await recv(owner))["type"] == "postlike"
    await nothing(kicked)
