"""`POST /api/groups/{id}/join/` (SPEC §3): who may join which group, twice, banned, missing.

What a join relays, and to whom, is in tests/groups/actions/test_join_group.py; the `join`
frame in tests/relay/frames/test_join.py. That join, leave and kick accept only POST is
checked once for the three, in tests/groups/test_membership_api.py.
"""

import pytest

from groups.models import Ban, Membership, Role
from tests.conftest import err, ok, role_of, url

pytestmark = pytest.mark.django_db


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
