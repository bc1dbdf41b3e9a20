"""Who receives what (SPEC §6): every group and message event, from REST and from the socket frame.

The room (the `room` fixture, tests/sockets.py): alice owns a public group with bob
as a member; bob has two sockets; charlie and dave are outsiders with one socket
each. Each test performs one action through one entry point and asserts the exact
recipients: who gets the event (once) and who gets nothing. What holds across actions
is here; each action's own recipients are in tests/groups/actions/ (test_send_message.py,
test_join_group.py, test_leave_group.py, test_kick_member.py, test_relay_typing.py).
"""

import pytest

from groups.models import Message
from tests.conftest import group_with, ok
from tests.sockets import (
    call,
    expect,
    group_url,
    nothing,
    rest,
    send,
    still_alive,
)

pytestmark = pytest.mark.django_db(transaction=True)


# --- refused actions relay nothing ----------------------------------------------------------------
async def test_refused_actions_relay_nothing(room):
    r = room
    # REST: a member cannot kick, an outsider cannot write to the group, the owner cannot leave.
    await rest(r.api["bob"], "post", group_url(r, "kick/"), {"user_id": r.alice.pk})
    await rest(r.api["charlie"], "post", group_url(r, "messages/"), {"message": "let me in"})
    await rest(r.api["alice"], "post", group_url(r, "leave/"))
    await rest(r.api["bob"], "post", group_url(r, "messages/"), {"message": "   "})
    await nothing(r.a, r.b1, r.b2, r.c, r.d)
    # Frames: the same refusals answer the sender only.
    await send(r.b1, "kick", groupid=r.group.pk, userid=r.alice.pk, ref="1")
    await expect(r.b1, "error", code="forbidden", ref="1")
    await send(r.c, "sendmessage", groupid=r.group.pk, message="let me in", ref="2")
    await expect(r.c, "error", code="forbidden", ref="2")
    await send(r.a, "leave", groupid=r.group.pk, ref="3")
    await expect(r.a, "error", code="owner_cannot_leave", ref="3")
    await send(r.b1, "sendmessage", groupid=r.group.pk, message="   ", ref="4")
    await expect(r.b1, "error", code="invalid_frame", ref="4")
    await nothing(r.a, r.b1, r.b2, r.c, r.d)
    assert not await call(Message.objects.exists)
    for comm in (r.a, r.b1, r.c):
        await still_alive(comm)


# --- live membership -----------------------------------------------------------------------------
async def test_an_open_socket_follows_membership_changes_made_over_rest(connect, aapi, alice, bob):
    group = await call(group_with, alice, name="open")
    owner, member = await connect(alice), await connect(bob)
    alice_api, bob_api = await aapi(alice), await aapi(bob)
    url = f"/api/groups/{group.pk}/"

    async def alice_says(text):
        return ok(await rest(alice_api, "post", url + "messages/", {"message": text}), 201)["id"]

    first = await alice_says("before bob")
    assert (await expect(owner, "sendmessage"))["id"] == first
    await nothing(member)

    ok(await rest(bob_api, "post", url + "join/"))
    await expect(owner, "join")
    await expect(member, "join")
    second = await alice_says("bob is in")
    for comm in (owner, member):
        assert (await expect(comm, "sendmessage"))["id"] == second

    ok(await rest(bob_api, "post", url + "leave/"))
    await expect(owner, "leave")
    await expect(member, "leave")
    third = await alice_says("bob is out")
    assert (await expect(owner, "sendmessage"))["id"] == third
    await nothing(member)
