"""`POST /api/groups/{id}/kick/` (SPEC §3): who may kick whom, bans, validation, the notification.

What a kick relays, and to whom, is in tests/groups/actions/test_kick_member.py; the `kick`
frame in tests/relay/frames/test_kick.py; the desk's "remove members" in
tests/moderation/test_remove_member.py.
"""

import pytest

from accounts.models import Notification
from groups.models import Ban, Role
from tests.conftest import err, group_with, make_admin, ok, role_of, url
from tests.sockets import call, expect, nothing, rest

pytestmark = pytest.mark.django_db


def test_the_owner_kicks_a_member(api, alice, bob, public_group):
    data = ok(api(alice).post(url(public_group, "kick/"), {"user_id": bob.pk}, format="json"))
    assert data == {"groupid": public_group.pk, "userid": bob.pk, "ban": False, "changed": True}
    assert role_of(bob, public_group) is None
    assert ok(api(bob).post(url(public_group, "join/")))["changed"] is True  # no ban: may come back


def test_an_admin_kicks_a_member_by_numeric_string_id(api, alice, bob, charlie, public_group):
    ok(api(charlie).post(url(public_group, "join/")))
    make_admin(bob, public_group)
    ok(api(bob).post(url(public_group, "kick/"), {"user_id": str(charlie.pk)}, format="json"))
    assert role_of(charlie, public_group) is None


def test_a_member_cannot_kick(api, bob, charlie, public_group):
    ok(api(charlie).post(url(public_group, "join/")))
    err(api(bob).post(url(public_group, "kick/"), {"user_id": charlie.pk}, format="json"), 403, "forbidden")
    assert role_of(charlie, public_group) == Role.MEMBER


def test_an_outsider_cannot_kick(api, bob, charlie, public_group, private_group):
    err(api(charlie).post(url(public_group, "kick/"), {"user_id": bob.pk}, format="json"), 403, "forbidden")
    err(api(charlie).post(url(private_group, "kick/"), {"user_id": bob.pk}, format="json"), 404, "not_found")
    assert role_of(bob, public_group) == role_of(bob, private_group) == Role.MEMBER


def test_nobody_kicks_the_owner(api, alice, bob, public_group):
    make_admin(bob, public_group)
    err(api(bob).post(url(public_group, "kick/"), {"user_id": alice.pk, "ban": True}, format="json"), 403,
        "forbidden")
    err(api(alice).post(url(public_group, "kick/"), {"user_id": alice.pk}, format="json"), 403, "forbidden")
    assert role_of(alice, public_group) == Role.OWNER
    assert not Ban.objects.exists()


def test_an_admin_cannot_kick_another_admin_but_the_owner_can(api, alice, bob, charlie, public_group):
    ok(api(charlie).post(url(public_group, "join/")))
    make_admin(bob, public_group)
    make_admin(charlie, public_group)
    err(api(bob).post(url(public_group, "kick/"), {"user_id": charlie.pk}, format="json"), 403, "forbidden")
    assert role_of(charlie, public_group) == Role.ADMIN
    ok(api(alice).post(url(public_group, "kick/"), {"user_id": charlie.pk}, format="json"))
    assert role_of(charlie, public_group) is None


def test_a_ban_prevents_joining_again(api, alice, bob, public_group):
    data = ok(api(alice).post(url(public_group, "kick/"), {"user_id": bob.pk, "ban": True}, format="json"))
    assert data["ban"] is True and data["changed"] is True
    assert Ban.objects.filter(group=public_group, user=bob, banned_by=alice).exists()
    err(api(bob).post(url(public_group, "join/")), 403, "forbidden")
    assert role_of(bob, public_group) is None


def test_banning_a_non_member_keeps_them_out(api, alice, charlie, public_group):
    data = ok(api(alice).post(url(public_group, "kick/"), {"user_id": charlie.pk, "ban": True}, format="json"))
    assert data["changed"] is True
    err(api(charlie).post(url(public_group, "join/")), 403, "forbidden")


def test_kicking_a_non_member_without_ban_is_not_found(api, alice, charlie, public_group):
    err(api(alice).post(url(public_group, "kick/"), {"user_id": charlie.pk}, format="json"), 404, "not_found")


def test_kicking_an_unknown_user_is_not_found(api, alice, public_group):
    err(api(alice).post(url(public_group, "kick/"), {"user_id": 999_999}, format="json"), 404, "not_found")


@pytest.mark.parametrize("body, field", [
    ({}, "user_id"), ({"user_id": None}, "user_id"), ({"user_id": "abc"}, "user_id"),
    ({"user_id": 0}, "user_id"), ({"user_id": -3}, "user_id"), ({"user_id": 1.5}, "user_id"),
    ({"user_id": True}, "user_id"), ({"user_id": [1]}, "user_id"), ({"user_id": "9" * 30}, "user_id"),
    ({"user_id": "{bob}", "ban": "maybe"}, "ban"),
])
def test_an_invalid_kick_is_a_validation_error_and_changes_nothing(api, alice, bob, public_group, body, field):
    body = {k: (str(bob.pk) if v == "{bob}" else v) for k, v in body.items()}
    response = err(api(alice).post(url(public_group, "kick/"), body, format="json"), 400, "validation_error")
    assert field in response["details"]
    assert role_of(bob, public_group) == Role.MEMBER and not Ban.objects.exists()


def test_the_kicked_user_gets_a_kick_notification(api, alice, bob, public_group):
    ok(api(alice).post(url(public_group, "kick/"), {"user_id": bob.pk, "ban": True}, format="json"))
    note = Notification.objects.get(user=bob)
    assert note.kind == "kick" and not note.read
    assert note.data == {"groupid": public_group.pk, "by": alice.pk, "ban": True}
    assert not Notification.objects.exclude(user=bob).exists()


def test_a_refused_kick_notifies_nobody(api, bob, charlie, public_group):
    ok(api(charlie).post(url(public_group, "join/")))
    err(api(bob).post(url(public_group, "kick/"), {"user_id": charlie.pk}, format="json"), 403, "forbidden")
    assert not Notification.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_a_kick_sends_the_kicked_user_a_live_notification_only(aapi, connect, alice, bob, charlie):
    group = await call(group_with, alice, bob, charlie)
    kicked, owner, member = await connect(bob), await connect(alice), await connect(charlie)
    ok(await rest(await aapi(alice), "post", f"/api/groups/{group.pk}/kick/", {"user_id": bob.pk}))

    await expect(kicked, "kick")
    note = await expect(kicked, "notification", kind="kick")
    assert note["data"] == {"groupid": group.pk, "by": alice.pk, "ban": False}
    for comm in (owner, member):
        await expect(comm, "kick")
    await nothing(kicked, owner, member)  # nobody else gets a notification
