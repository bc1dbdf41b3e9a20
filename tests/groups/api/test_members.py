"""`/api/groups/{id}/members/` (SPEC §3): adding a member (POST) and the member list (GET),
with who is online.

Roles (PATCH members/{user}/) are in tests/groups/api/test_member_role.py; joining, leaving
and kicking in tests/groups/api/test_join.py, test_leave.py and test_kick.py.
"""

import pytest

from groups.models import Ban, Membership, Role
from tests.conftest import err, group_with, make_admin, ok, role_of, url
from tests.sockets import rest, user_shape

pytestmark = pytest.mark.django_db


def test_adding_a_banned_user_lifts_the_ban(api, alice, bob, public_group):
    ok(api(alice).post(url(public_group, "kick/"), {"user_id": bob.pk, "ban": True}, format="json"))
    ok(api(alice).post(url(public_group, "members/"), {"user_id": bob.pk}, format="json"), 201)
    assert role_of(bob, public_group) == Role.MEMBER and not Ban.objects.exists()


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
