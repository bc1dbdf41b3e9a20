"""The `deletemessage` client frame (issue 23, item 4): answered with `ack` (id, changed), acted
as the socket's user. Who may delete and who is told is in
tests/groups/actions/test_edit_and_delete_message.py; staff deletes (by this frame too) in
tests/moderation/test_message_revisions.py.
"""

import pytest

from groups import messaging
from groups.models import Message
from tests.conftest import group_with
from tests.sockets import call, error_of, expect, nothing, recv_types, send

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_author_deletes_by_frame_and_the_members_are_told(connect, alice, bob, charlie):
    group = await call(group_with, alice, bob)
    message = await call(messaging.send_message, actor=bob, body="oops", group_id=group.pk)
    author, owner, outsider = await connect(bob), await connect(alice), await connect(charlie)

    await send(author, "deletemessage", id=message.pk, ref="d1")
    frames = await recv_types(author, "ack", "deletemessage")
    assert frames["ack"] == {"identifier": "kirimin", "type": "ack", "ref": "d1", "id": message.pk, "changed": True}
    assert frames["deletemessage"]["by"]["id"] == bob.pk
    await expect(owner, "deletemessage", id=message.pk, groupid=group.pk)
    await nothing(author, owner, outsider)
    assert not await Message.objects.filter(pk=message.pk).aexists()


async def test_a_member_may_not_delete_anothers_message(connect, alice, bob):
    group = await call(group_with, alice, bob)
    message = await call(messaging.send_message, actor=alice, body="rules", group_id=group.pk)
    member = await connect(bob)
    await send(member, "deletemessage", id=message.pk, ref="m")
    await error_of(member, "forbidden", ref="m")
    await send(member, "deletemessage", id=999999, ref="n")
    await error_of(member, "not_found", ref="n")
    assert await Message.objects.filter(pk=message.pk).aexists()
