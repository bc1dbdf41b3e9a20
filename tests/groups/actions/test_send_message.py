"""`groups.messaging.send_message`: what a group or direct message relays and to whom, whichever
way it is sent.

The REST endpoints have their own files (tests/groups/api/test_group_messages.py and
test_direct_messages.py), so has the `sendmessage` frame (tests/relay/frames/test_sendmessage.py).
Direct and group audiences as the relay routes them are in tests/relay/test_routing.py, replay
with `since=` in tests/groups/test_recovery.py.
"""

import pytest

from groups.models import Message
from tests.conftest import ok
from tests.sockets import (
    BOTH_WAYS,
    call,
    expect,
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
async def test_group_message_reaches_every_socket_of_every_member_and_no_outsider(room, via):
    r = room
    if via == "rest":
        msg_id = ok(await rest(r.api["bob"], "post", group_url(r, "messages/"), {"message": "hi all"}), 201)["id"]
        event = await expect(r.b1, "sendmessage")
    else:
        await send(r.b1, "sendmessage", groupid=r.group.pk, message=" hi all ", ref="m1")
        frames = await recv_types(r.b1, "ack", "sendmessage")
        assert frames["ack"]["ref"] == "m1"
        msg_id, event = frames["ack"]["id"], frames["sendmessage"]

    stored = await call(Message.objects.get)
    assert stored.pk == msg_id and stored.body == "hi all" and stored.group_id == r.group.pk
    assert unnumbered(event) == {"identifier": "kirimin", "type": "sendmessage", "id": msg_id, "from": user_shape(r.bob),
                     "groupid": r.group.pk, "message": "hi all", "created_at": event["created_at"]}
    for comm in (r.a, r.b2):
        assert await expect(comm, "sendmessage") == event
    await nothing(r.a, r.b1, r.b2, r.c, r.d)  # exactly once for members, never for outsiders


@BOTH_WAYS
async def test_direct_message_reaches_every_socket_of_both_users_only(room, via):
    r = room
    if via == "rest":
        data = ok(await rest(r.api["alice"], "post", "/api/messages/", {"to": r.bob.pk, "message": "psst"}), 201)
        msg_id = data["id"]
        event = await expect(r.a, "sendmessage")
    else:
        await send(r.a, "sendmessage", to=str(r.bob.pk), message="psst", ref="dm")
        frames = await recv_types(r.a, "ack", "sendmessage")
        msg_id, event = frames["ack"]["id"], frames["sendmessage"]

    assert event["id"] == msg_id and event["to"] == r.bob.pk and "groupid" not in event
    assert event["from"] == user_shape(r.alice) and event["message"] == "psst"
    assert set(event["streams"]) == {f"user:{r.alice.pk}"}  # each is told their own stream's offset only
    for comm in (r.b1, r.b2):
        got = await expect(comm, "sendmessage")
        assert set(got["streams"]) == {f"user:{r.bob.pk}"} and {**got, "streams": 0} == {**event, "streams": 0}
    await nothing(r.a, r.b1, r.b2, r.c, r.d)


async def test_a_direct_message_from_a_second_socket_reaches_the_senders_first_socket(room):
    r = room
    await send(r.b2, "sendmessage", to=r.charlie.pk, message="hey", ref="x")
    frames = await recv_types(r.b2, "ack", "sendmessage")
    for comm in (r.b1, r.c):
        assert (await expect(comm, "sendmessage"))["id"] == frames["ack"]["id"]
    await nothing(r.a, r.b1, r.b2, r.c, r.d)
