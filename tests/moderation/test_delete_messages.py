"""The desk's "delete messages": relays `deletemessage` to those who could see the message,
a group's members or a direct message's two users, and only to them.
"""

import pytest

from groups.messaging import send_message
from groups.models import Message
from moderation.models import ModerationLog
from tests.conftest import group_with
from tests.moderation.conftest import run_action
from tests.sockets import call, expect, nothing

pytestmark = pytest.mark.django_db(transaction=True)


async def test_deleting_a_group_message_relays_deletemessage_to_the_members_only(desk, alice, bob, charlie,
                                                                                 connect):
    group = await call(group_with, alice, bob)
    message = await call(send_message, actor=bob, body="spam spam", group_id=group.pk)
    alice_socket, bob_socket, charlie_socket = await connect(alice), await connect(bob), await connect(charlie)

    await call(run_action, desk, "groups.message", "delete_messages", [message], "Spam.")

    for comm in (alice_socket, bob_socket):
        await expect(comm, "deletemessage", id=message.pk, groupid=group.pk)
    await nothing(alice_socket, bob_socket, charlie_socket)
    assert not await Message.objects.filter(pk=message.pk).aexists()
    entry = await ModerationLog.objects.aget()
    assert (entry.action, entry.target_type, entry.target_id, entry.reason) == (
        "delete_message", "message", message.pk, "Spam.")
    assert entry.details == {"groupid": group.pk} and "spam spam" in entry.target_repr


async def test_deleting_a_direct_message_relays_deletemessage_to_both_users_only(desk, alice, bob, charlie,
                                                                                 connect):
    message = await call(send_message, actor=alice, body="threat", to_id=bob.pk)
    alice_socket, bob_socket, charlie_socket = await connect(alice), await connect(bob), await connect(charlie)

    await call(run_action, desk, "groups.message", "delete_messages", [message], "Threats.")

    for comm in (alice_socket, bob_socket):
        await expect(comm, "deletemessage", id=message.pk)
    await nothing(alice_socket, bob_socket, charlie_socket)
    assert not await Message.objects.filter(pk=message.pk).aexists()
    assert (await ModerationLog.objects.aget()).details == {"to": bob.pk}
