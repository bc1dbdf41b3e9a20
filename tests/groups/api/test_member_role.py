"""`PATCH /api/groups/{id}/members/{user}/` (SPEC §3): the owner promotes and demotes; nobody
else changes roles, nor the owner's own; validation.

Adding members and the member list are in tests/groups/api/test_members.py.
"""

import pytest

from groups.models import Role
from tests.conftest import err, make_admin, ok, role_of, url
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db


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
