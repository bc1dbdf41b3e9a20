"""`groups.messaging.relay_typing`: whom a `typing` frame reaches (the group's other members, or
the recipient's sockets), never stored; refused outside one's groups.

Typing has no REST endpoint: the frame is its one way in. Its validation is with every
frame's, in tests/relay/test_frames.py; typing as the relay routes it (and its rate limit)
in tests/relay/test_routing.py.
"""

import pytest

from groups.models import Message
from tests.conftest import group_with
from tests.sockets import call, expect, nothing, send, user_shape

pytestmark = pytest.mark.django_db(transaction=True)


async def test_group_typing_reaches_the_other_members_but_not_the_sender(room):
    r = room
    await send(r.b1, "typing", groupid=r.group.pk)
    event = await expect(r.a, "typing")
    assert event == {"identifier": "kirimin", "type": "typing", "from": user_shape(r.bob), "groupid": r.group.pk}
    await nothing(r.a, r.b1, r.b2, r.c, r.d)  # not even the sender's other socket
    assert not await call(Message.objects.exists)


async def test_direct_typing_reaches_the_recipients_sockets_only(room):
    r = room
    await send(r.a, "typing", to=r.bob.pk, ref="t")
    await expect(r.a, "ack", ref="t")
    for comm in (r.b1, r.b2):
        event = await expect(comm, "typing")
        assert event["from"] == user_shape(r.alice) and event["to"] == r.bob.pk and "groupid" not in event
    await nothing(r.a, r.b1, r.b2, r.c, r.d)
    assert not await call(Message.objects.exists)


async def test_typing_is_refused_outside_ones_groups(room, alice):
    r = room
    private = await call(group_with, alice, name="hidden", private=True)
    await expect(r.a, "join")  # alice's sockets: she created a group
    await send(r.c, "typing", groupid=r.group.pk, ref="t1")
    await expect(r.c, "error", code="forbidden", ref="t1")
    await send(r.d, "typing", groupid=private.pk, ref="t2")
    await expect(r.d, "error", code="not_found", ref="t2")
    await nothing(r.a, r.b1, r.b2, r.c, r.d)
