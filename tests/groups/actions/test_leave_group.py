"""`groups.actions.leave_group`: what a leave relays and to whom, whichever way it is asked for,
and what the leaver's sockets no longer get.

The REST endpoint has its own file (tests/groups/api/test_leave.py), so has the `leave` frame
(tests/relay/frames/test_leave.py). Live membership as the relay routes it is in
tests/relay/test_routing.py.
"""

import pytest

from tests.conftest import ok
from tests.sockets import (
    BOTH_WAYS,
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
async def test_leave_reaches_the_remaining_members_and_the_leavers_sockets(room, via):
    r = room
    if via == "rest":
        assert ok(await rest(r.api["bob"], "post", group_url(r, "leave/")))["changed"] is True
        event = await expect(r.b1, "leave")
    else:
        await send(r.b1, "leave", groupid=r.group.pk, ref="bye")
        frames = await recv_types(r.b1, "ack", "leave")
        assert frames["ack"]["changed"] is True and frames["ack"]["ref"] == "bye"
        event = frames["leave"]

    assert unnumbered(event) == {"identifier": "kirimin", "type": "leave", "groupid": r.group.pk, "user": user_shape(r.bob)}
    for comm in (r.a, r.b2):
        assert await expect(comm, "leave") == event
    await nothing(r.a, r.b1, r.b2, r.c, r.d)

    # The leaver's sockets hear no more of the group.
    msg = await group_message_from_alice(r, "after bob left")
    assert (await expect(r.a, "sendmessage"))["id"] == msg["id"]
    await nothing(r.b1, r.b2, r.c, r.d)
