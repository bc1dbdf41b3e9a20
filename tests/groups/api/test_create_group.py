"""`POST /api/groups/` (SPEC §3): the creator becomes the owner; public or private; every bad
body a validation error that creates nothing.

Editing and deleting a group have their own files (tests/groups/api/test_update_group.py and
test_delete_group.py); the list and reading a group are in tests/groups/test_groups_api.py,
with the authentication every group endpoint needs.
"""

import pytest

from groups.models import Group, Membership, Role
from tests.conftest import GROUPS, err, ok
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db


def test_creator_becomes_the_owner(api, alice):
    data = ok(api(alice).post(GROUPS, {"name": "  Chess  ", "description": "64 squares"}, format="json"), 201)

    group = Group.objects.get()
    assert data["id"] == group.pk and group.owner == alice
    assert data["name"] == "Chess" and data["description"] == "64 squares" and data["is_private"] is False
    assert data["owner"] == user_shape(alice)
    assert data["members_count"] == 1 and data["my_role"] == "owner"
    assert data["created_at"].endswith("Z")
    assert Membership.objects.get(group=group).user == alice
    assert Membership.objects.get(group=group).role == Role.OWNER


def test_it_creates_a_private_group(api, alice):
    data = ok(api(alice).post(GROUPS, {"name": "Secret", "is_private": True}, format="json"), 201)
    assert data["is_private"] is True and Group.objects.get().is_private


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "    "}, "name"),
    ({"name": None}, "name"),
    ({"name": ["Chess"]}, "name"),
    ({"name": {"x": 1}}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "ok\x00"}, "name"),
    ({"name": "Chess", "is_private": "maybe"}, "is_private"),
    ({"name": "Chess", "is_private": [True]}, "is_private"),
    ({"name": "Chess", "description": ["x"]}, "description"),
    ({"name": "Chess", "description": "x" * 2001}, "description"),
])
def test_invalid_group_is_a_validation_error_and_creates_nothing(api, alice, body, field):
    body = err(api(alice).post(GROUPS, body, format="json"), 400, "validation_error")
    assert field in body["details"]
    assert not Group.objects.exists() and not Membership.objects.exists()


def test_a_non_object_body_is_a_validation_error(api, alice):
    err(api(alice).post(GROUPS, ["Chess"], format="json"), 400, "validation_error")
    assert not Group.objects.exists()


def test_malformed_json_is_refused(api, alice):
    response = api(alice).post(GROUPS, '{"name": ', content_type="application/json")
    assert response.status_code == 400 and response.json()["data"] is None
    assert not Group.objects.exists()
