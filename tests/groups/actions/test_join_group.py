"""`groups.actions.join_group`: what a join relays and to whom, whichever way it is asked for,
and what the newcomer's open sockets get from then on.

The REST endpoint has its own file (tests/groups/api/test_join.py), so has the `join` frame
(tests/relay/frames/test_join.py). Live membership as the relay routes it is in
tests/relay/test_routing.py.
"""

import pytest

from groups.models import Membership
from tests.conftest import ok
from tests.sockets import (
    BOTH_WAYS,
    call,
    expect,
    group_message_from_alice,
    group_url,
    nothing,
    recv_types,
    rest,
    send,
    unnumbered,
    user_shape,
)

pytestmark = pytest.mark.django_db(transaction=True)


@BOTH_WAYS
async def test_join_reaches_every_member_and_the_newcomers_sockets(room, connect, via):
    r = room
    c2 = await connect(r.charlie)
    if via == "rest":
        assert ok(await rest(r.api["charlie"], "post", group_url(r, "join/")))["changed"] is True
        event = await expect(r.c, "join")
    else:
        await send(r.c, "join", groupid=r.group.pk, ref="j")
        frames = await recv_types(r.c, "ack", "join")
        assert frames["ack"]["groupid"] == r.group.pk and frames["ack"]["changed"] is True
        assert frames["ack"]["ref"] == "j"
        event = frames["join"]

    assert unnumbered(event) == {"identifier": "kirimin", "type": "join", "groupid": r.group.pk, "user": user_shape(r.charlie)}
    for comm in (r.a, r.b1, r.b2, c2):
        assert await expect(comm, "join") == event
    await nothing(r.a, r.b1, r.b2, r.c, c2, r.d)

    # Membership is live: both of charlie's open sockets now receive the group's messages.
    msg = await group_message_from_alice(r, "welcome")
    for comm in (r.a, r.b1, r.b2, r.c, c2):
        assert (await expect(comm, "sendmessage"))["id"] == msg["id"]
    await nothing(r.d)


@BOTH_WAYS
async def test_joining_twice_relays_nothing(room, via):
    r = room
    await call(Membership.objects.create, group=r.group, user=r.charlie)
    if via == "rest":
        assert ok(await rest(r.api["charlie"], "post", group_url(r, "join/")))["changed"] is False
    else:
        await send(r.c, "join", groupid=r.group.pk, ref="again")
        await expect(r.c, "ack", changed=False, ref="again")
    await nothing(r.a, r.b1, r.b2, r.c, r.d)
