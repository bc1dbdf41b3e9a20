"""The `editmessage` frame (issue 23, item 4): answered with `ack` (id, changed), acted as the
socket's user. Who may edit and who is told is in
tests/groups/actions/test_edit_and_delete_message.py.
"""

import pytest

from groups import messaging
from groups.models import Message
from tests.conftest import group_with
from tests.sockets import call, error_of, expect, nothing, recv_types, send

pytestmark = pytest.mark.django_db(transaction=True)


async def test_the_author_edits_by_frame_and_the_members_see_it(connect, alice, bob, charlie):
    group = await call(group_with, alice, bob)
    message = await call(messaging.send_message, actor=bob, body="draft", group_id=group.pk)
    author, owner, outsider = await connect(bob), await connect(alice), await connect(charlie)

    await send(author, "editmessage", id=message.pk, message="final", ref="e1")
    frames = await recv_types(author, "ack", "editmessage")
    assert frames["ack"] == {"identifier": "kirimin", "type": "ack", "ref": "e1", "id": message.pk, "changed": True}
    assert frames["editmessage"]["message"] == "final" and frames["editmessage"]["edited_at"]
    await expect(owner, "editmessage", id=message.pk, message="final")
    await nothing(author, owner, outsider)
    assert (await Message.objects.aget(pk=message.pk)).body == "final"


async def test_someone_elses_message_or_a_hidden_one_is_refused(connect, alice, bob, charlie):
    group = await call(group_with, alice, bob, private=True)
    message = await call(messaging.send_message, actor=bob, body="mine", group_id=group.pk)
    owner, outsider = await connect(alice), await connect(charlie)
    await send(owner, "editmessage", id=message.pk, message="owner's now", ref="o")
    await error_of(owner, "forbidden", ref="o")
    await send(outsider, "editmessage", id=message.pk, message="outsider's now", ref="x")
    await error_of(outsider, "not_found", ref="x")
    await send(outsider, "editmessage", id=message.pk, message="", ref="b")
    await error_of(outsider, "invalid_frame", ref="b")
    assert (await Message.objects.aget(pk=message.pk)).body == "mine"
