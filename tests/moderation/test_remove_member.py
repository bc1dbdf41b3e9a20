"""Removing a member from the admin relays the same `kick` as the REST kick, with `by` = the moderator."""

import pytest

from accounts.models import Notification
from groups.messaging import send_message
from groups.models import Ban, Membership
from moderation.models import ModerationLog
from tests.conftest import err, group_with
from tests.moderation.conftest import admin_messages, run_action
from tests.sockets import call, expect, nothing, recv, recv_types, user_shape

pytestmark = pytest.mark.django_db(transaction=True)


async def test_removed_member_gets_kick_and_then_no_group_messages(desk, moderator, alice, bob, charlie,
                                                                  make_user, connect):
    group = await call(group_with, alice, bob, charlie)
    outsider = await call(make_user, "dave")
    membership = await Membership.objects.aget(group=group, user=bob)
    sockets = {name: await connect(user) for name, user in
               [("alice", alice), ("bob", bob), ("charlie", charlie), ("dave", outsider)]}

    await call(run_action, desk, "groups.membership", "remove_members", [membership], "Harassment.")

    kick = {"groupid": group.pk, "user": user_shape(bob), "by": user_shape(moderator), "ban": False}
    await expect(sockets["alice"], "kick", **kick)
    await expect(sockets["charlie"], "kick", **kick)
    got = await recv_types(sockets["bob"], "kick", "notification")
    assert {k: v for k, v in got["kick"].items() if k not in ("identifier", "type", "seq", "streams")} == kick
    assert got["notification"]["kind"] == "kick" and "Harassment." in got["notification"]["message"]
    await nothing(sockets["dave"])
    assert not await Membership.objects.filter(group=group, user=bob).aexists()
    assert not await Ban.objects.filter(group=group, user=bob).aexists()
    assert await Notification.objects.filter(user=bob, kind="kick").acount() == 1

    # Membership is live: bob's socket no longer receives the group's messages.
    await call(send_message, actor=alice, body="after the kick", group_id=group.pk)
    for name in ("alice", "charlie"):
        assert (await recv(sockets[name]))["message"] == "after the kick"
    await nothing(sockets["bob"], sockets["dave"])

    entry = await ModerationLog.objects.aget()
    assert (entry.action, entry.target_type, entry.target_id, entry.reason, entry.moderator_id) == (
        "remove_member", "user", bob.pk, "Harassment.", moderator.pk)
    assert entry.details == {"groupid": group.pk, "ban": False}


async def test_remove_and_ban_keeps_them_out(desk, alice, bob, aapi_bob, connect):
    group = await call(group_with, alice, bob)
    membership = await Membership.objects.aget(group=group, user=bob)
    alice_socket, bob_socket = await connect(alice), await connect(bob)

    await call(run_action, desk, "groups.membership", "ban_members", [membership])

    assert (await expect(alice_socket, "kick"))["ban"] is True
    assert (await recv_types(bob_socket, "kick", "notification"))["kick"]["ban"] is True
    assert await Ban.objects.filter(group=group, user=bob).aexists()
    err(await call(aapi_bob.post, f"/api/groups/{group.pk}/join/"), 403, "forbidden")
    assert (await ModerationLog.objects.aget()).action == "ban_member"


async def test_nobody_removes_the_owner(desk, alice, bob, connect):
    group = await call(group_with, alice, bob)
    owner = await Membership.objects.aget(group=group, user=alice)
    alice_socket, bob_socket = await connect(alice), await connect(bob)
    await call(run_action, desk, "groups.membership", "remove_members", [owner])
    assert any("Nobody removes the owner" in m for m in await call(admin_messages, desk))
    await nothing(alice_socket, bob_socket)
    assert await Membership.objects.filter(group=group).acount() == 2
    assert not await ModerationLog.objects.aexists()


@pytest.fixture
def aapi_bob(api, bob):
    return api(bob)
