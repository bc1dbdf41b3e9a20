"""The `sendmessage` frame (SPEC §6): acted as the socket's user, whatever the frame claims;
refused as over REST.

What a message relays is in tests/groups/actions/test_send_message.py (once through this
frame, once through REST); the REST endpoints in tests/groups/api/test_group_messages.py and
test_direct_messages.py; the frame's validation is with every frame's, in
tests/relay/test_frames.py.
"""

import pytest
from asgiref.sync import sync_to_async

from tests.sockets import error_of, recv, recv_types, send

pytestmark = pytest.mark.django_db(transaction=True)


async def test_direct_message_to_an_inactive_user_is_not_found(connect, alice, bob):
    bob.is_active = False
    await sync_to_async(bob.save)()
    comm = await connect(alice)
    await send(comm, "sendmessage", to=bob.pk, message="hi", ref="gone")
    await error_of(comm, "not_found", ref="gone")


async def test_spoofed_from_is_ignored_in_sendmessage(connect, alice, bob, charlie):
    to_bob = await connect(bob)
    comm = await connect(alice)
    await send(comm, "sendmessage", to=bob.pk, message="who am I", ref="s",
               **{"from": {"id": charlie.pk, "username": "charlie"}, "userid": charlie.pk,
                  "sender": charlie.pk, "id": 1})
    frames = await recv_types(comm, "ack", "sendmessage")
    relayed = await recv(to_bob)
    assert relayed["from"]["id"] == alice.pk and frames["sendmessage"]["from"]["id"] == alice.pk
    assert relayed["id"] == frames["ack"]["id"]
