"""`POST /api/groups/{id}/leave/` (SPEC §3): who may leave, the owner who may not, twice.

What a leave relays, and to whom, is in tests/groups/actions/test_leave_group.py; the `leave`
frame in tests/relay/frames/test_leave.py. That join, leave and kick accept only POST is
checked once for the three, in tests/groups/test_membership_api.py.
"""

import pytest

from groups.models import Role
from tests.conftest import err, ok, role_of, url

pytestmark = pytest.mark.django_db


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
