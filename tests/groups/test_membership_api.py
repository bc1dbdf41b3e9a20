"""REST for membership (SPEC §3): join, leave, kick and ban, adding members, roles, the member list."""

import pytest

from accounts.models import Notification
from groups.models import Ban, Membership, Role
from tests.conftest import err, group_with, ok
from tests.groups.conftest import rest
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db


def url(group, verb=""):
    return f"/api/groups/{group.pk}/{verb}"


def role_of(user, group):
    return Membership.objects.filter(user=user, group=group).values_list("role", flat=True).first()


def make_admin(user, group):
    Membership.objects.filter(user=user, group=group).update(role=Role.ADMIN)


# --- join -------------------------------------------------------------------------------------
def test_joining_a_public_group_makes_a_member(api, charlie, public_group):
    data = ok(api(charlie).post(url(public_group, "join/")))
    assert data == {"groupid": public_group.pk, "changed": True}
    assert role_of(charlie, public_group) == Role.MEMBER


def test_joining_twice_changes_nothing(api, charlie, public_group):
    ok(api(charlie).post(url(public_group, "join/")))
    data = ok(api(charlie).post(url(public_group, "join/")))
    assert data == {"groupid": public_group.pk, "changed": False}
    assert Membership.objects.filter(group=public_group).count() == 3


def test_the_owner_joining_their_own_group_changes_nothing(api, alice, public_group):
    assert ok(api(alice).post(url(public_group, "join/")))["changed"] is False
    assert role_of(alice, public_group) == Role.OWNER


def test_joining_a_private_group_is_forbidden(api, charlie, private_group):
    err(api(charlie).post(url(private_group, "join/")), 403, "forbidden")
    assert role_of(charlie, private_group) is None


def test_a_member_joining_their_private_group_changes_nothing(api, bob, private_group):
    assert ok(api(bob).post(url(private_group, "join/")))["changed"] is False


def test_a_banned_user_cannot_join(api, charlie, public_group):
    Ban.objects.create(group=public_group, user=charlie)
    err(api(charlie).post(url(public_group, "join/")), 403, "forbidden")
    assert role_of(charlie, public_group) is None


def test_joining_a_missing_group_is_not_found(api, charlie):
    err(api(charlie).post("/api/groups/424242/join/"), 404, "not_found")


@pytest.mark.parametrize("verb", ["join/", "leave/", "kick/"])
def test_membership_verbs_only_accept_post(api, alice, public_group, verb):
    for method in ("get", "put", "patch", "delete"):
        err(getattr(api(alice), method)(url(public_group, verb)), 405, "method_not_allowed")


# --- leave -------------------------------------------------------------------------------------
def test_a_member_leaves(api, bob, public_group):
    data = ok(api(bob).post(url(public_group, "leave/")))
    assert data == {"groupid": public_group.pk, "changed": True}
    assert role_of(bob, public_group) is None


def test_leaving_a_private_group_hides_it_again(api, bob, private_group):
    ok(api(bob).post(url(private_group, "leave/")))
    err(api(bob).get(url(private_group)), 404, "not_found")
    err(api(bob).post(url(private_group, "join/")), 403, "forbidden")


def test_the_owner_cannot_leave(api, alice, public_group):
    err(api(alice).post(url(public_group, "leave/")), 409, "owner_cannot_leave")
    assert role_of(alice, public_group) == Role.OWNER


def test_a_non_member_cannot_leave(api, charlie, public_group):
    err(api(charlie).post(url(public_group, "leave/")), 403, "forbidden")


def test_leaving_a_private_group_one_is_not_in_is_not_found(api, charlie, private_group):
    err(api(charlie).post(url(private_group, "leave/")), 404, "not_found")


def test_leaving_twice_is_forbidden_the_second_time(api, bob, public_group):
    ok(api(bob).post(url(public_group, "leave/")))
    err(api(bob).post(url(public_group, "leave/")), 403, "forbidden")


# --- kick --------------------------------------------------------------------------------------
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


def test_adding_a_banned_user_lifts_the_ban(api, alice, bob, public_group):
    ok(api(alice).post(url(public_group, "kick/"), {"user_id": bob.pk, "ban": True}, format="json"))
    ok(api(alice).post(url(public_group, "members/"), {"user_id": bob.pk}, format="json"), 201)
    assert role_of(bob, public_group) == Role.MEMBER and not Ban.objects.exists()


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


# --- adding members ------------------------------------------------------------------------
def test_the_owner_adds_a_user_to_a_private_group(api, alice, charlie, private_group):
    data = ok(api(alice).post(url(private_group, "members/"), {"user_id": charlie.pk}, format="json"), 201)
    assert data == {"groupid": private_group.pk, "userid": charlie.pk, "changed": True}
    assert role_of(charlie, private_group) == Role.MEMBER
    assert ok(api(charlie).get(url(private_group)))["my_role"] == "member"


def test_an_admin_adds_a_user(api, bob, charlie, private_group):
    make_admin(bob, private_group)
    ok(api(bob).post(url(private_group, "members/"), {"user_id": str(charlie.pk)}, format="json"), 201)
    assert role_of(charlie, private_group) == Role.MEMBER


def test_adding_an_existing_member_changes_nothing(api, alice, bob, private_group):
    data = ok(api(alice).post(url(private_group, "members/"), {"user_id": bob.pk}, format="json"), 200)
    assert data["changed"] is False
    assert Membership.objects.filter(group=private_group).count() == 2


def test_a_member_cannot_add(api, bob, charlie, public_group, private_group):
    for group in (public_group, private_group):
        err(api(bob).post(url(group, "members/"), {"user_id": charlie.pk}, format="json"), 403, "forbidden")
        assert role_of(charlie, group) is None


def test_an_outsider_cannot_add(api, charlie, make_user, public_group, private_group):
    dave = make_user("dave")
    err(api(charlie).post(url(public_group, "members/"), {"user_id": dave.pk}, format="json"), 403, "forbidden")
    err(api(charlie).post(url(private_group, "members/"), {"user_id": charlie.pk}, format="json"), 404,
        "not_found")
    assert role_of(charlie, private_group) is None and role_of(dave, public_group) is None


def test_adding_an_unknown_or_inactive_user_is_not_found(api, alice, make_user, private_group):
    gone = make_user("gone", is_active=False)
    err(api(alice).post(url(private_group, "members/"), {"user_id": 999_999}, format="json"), 404, "not_found")
    err(api(alice).post(url(private_group, "members/"), {"user_id": gone.pk}, format="json"), 404, "not_found")
    assert role_of(gone, private_group) is None


@pytest.mark.parametrize("body", [{}, {"user_id": "abc"}, {"user_id": None}, {"user_id": [2]}, {"user_id": 0}])
def test_an_invalid_add_is_a_validation_error(api, alice, private_group, body):
    response = err(api(alice).post(url(private_group, "members/"), body, format="json"), 400, "validation_error")
    assert "user_id" in response["details"]
    assert Membership.objects.filter(group=private_group).count() == 2


# --- roles ---------------------------------------------------------------------------------------
def member_url(group, user):
    return url(group, f"members/{user.pk}/")


def test_the_owner_promotes_and_demotes(api, alice, bob, public_group):
    data = ok(api(alice).patch(member_url(public_group, bob), {"role": "admin"}, format="json"))
    assert data["user"] == user_shape(bob) and data["role"] == "admin" and data["online"] is False
    assert role_of(bob, public_group) == Role.ADMIN
    ok(api(alice).patch(member_url(public_group, bob), {"role": "member"}, format="json"))
    assert role_of(bob, public_group) == Role.MEMBER


def test_only_the_owner_changes_roles(api, bob, charlie, public_group):
    ok(api(charlie).post(url(public_group, "join/")))
    make_admin(bob, public_group)
    err(api(bob).patch(member_url(public_group, charlie), {"role": "admin"}, format="json"), 403, "forbidden")
    err(api(charlie).patch(member_url(public_group, bob), {"role": "member"}, format="json"), 403, "forbidden")
    assert role_of(charlie, public_group) == Role.MEMBER and role_of(bob, public_group) == Role.ADMIN


def test_the_owners_role_cannot_be_changed(api, alice, public_group):
    err(api(alice).patch(member_url(public_group, alice), {"role": "member"}, format="json"), 403, "forbidden")
    assert role_of(alice, public_group) == Role.OWNER


def test_changing_the_role_of_a_non_member_or_unknown_user_is_not_found(api, alice, charlie, public_group):
    err(api(alice).patch(member_url(public_group, charlie), {"role": "admin"}, format="json"), 404, "not_found")
    err(api(alice).patch(url(public_group, "members/999999/"), {"role": "admin"}, format="json"), 404,
        "not_found")
    assert role_of(charlie, public_group) is None


def test_an_outsider_changing_roles_in_a_private_group_is_not_found(api, bob, charlie, private_group):
    err(api(charlie).patch(member_url(private_group, bob), {"role": "admin"}, format="json"), 404, "not_found")


@pytest.mark.parametrize("body", [{}, {"role": "owner"}, {"role": "boss"}, {"role": None}, {"role": ["admin"]}])
def test_an_invalid_role_is_a_validation_error(api, alice, bob, public_group, body):
    response = err(api(alice).patch(member_url(public_group, bob), body, format="json"), 400, "validation_error")
    assert "role" in response["details"]
    assert role_of(bob, public_group) == Role.MEMBER


@pytest.mark.parametrize("raw", ["abc", "9" * 30, "-1"])
def test_a_malformed_member_id_is_a_404_envelope(api, alice, public_group, raw):
    err(api(alice).patch(url(public_group, f"members/{raw}/"), {"role": "admin"}, format="json"), 404,
        "not_found")


def test_a_member_resource_only_accepts_patch(api, alice, bob, public_group):
    for method in ("get", "post", "put", "delete"):
        err(getattr(api(alice), method)(member_url(public_group, bob)), 405, "method_not_allowed")


# --- the member list ---------------------------------------------------------------------------
def test_members_see_the_member_list(api, alice, bob, private_group):
    results = ok(api(bob).get(url(private_group, "members/")))["results"]
    assert [(m["user"], m["role"]) for m in results] == [(user_shape(bob), "member"), (user_shape(alice), "owner")]
    assert all(m["online"] is False and m["joined_at"].endswith("Z") for m in results)


def test_the_member_list_is_paginated(api, alice, make_user):
    group = group_with(alice, *(make_user() for _ in range(3)))
    first = ok(api(alice).get(url(group, "members/"), {"limit": 2}))
    assert len(first["results"]) == 2 and first["next"]
    rest_ = ok(api(alice).get(first["next"]))
    assert len(rest_["results"]) == 2 and rest_["next"] is None
    err(api(alice).get(url(group, "members/"), {"limit": 0}), 400, "validation_error")


def test_non_members_cannot_see_the_member_list(api, charlie, public_group, private_group):
    err(api(charlie).get(url(public_group, "members/")), 403, "forbidden")
    err(api(charlie).get(url(private_group, "members/")), 404, "not_found")


def test_the_member_list_only_accepts_get_and_post(api, alice, public_group):
    for method in ("put", "patch", "delete"):
        err(getattr(api(alice), method)(url(public_group, "members/")), 405, "method_not_allowed")


@pytest.mark.django_db(transaction=True)
async def test_online_is_true_while_the_member_has_an_open_socket(aapi, connect, alice, bob, public_group):
    def online():
        return {m["user"]["id"]: m["online"] for m in ok(response)["results"]}

    client = await aapi(alice)
    response = await rest(client, "get", url(public_group, "members/"))
    assert online() == {alice.pk: False, bob.pk: False}

    comm = await connect(bob)
    response = await rest(client, "get", url(public_group, "members/"))
    assert online() == {alice.pk: False, bob.pk: True}

    await comm.disconnect()
    response = await rest(client, "get", url(public_group, "members/"))
    assert online() == {alice.pk: False, bob.pk: False}
