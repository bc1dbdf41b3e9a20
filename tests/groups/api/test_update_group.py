"""`PATCH /api/groups/{id}/` (SPEC §3): the owner and admins edit; members and outsiders may
not; an invalid edit changes nothing; PUT is refused.

Creating and deleting a group have their own files (tests/groups/api/test_create_group.py and
test_delete_group.py).
"""

import pytest

from groups.models import Group, Membership, Role
from tests.conftest import detail, err, ok

pytestmark = pytest.mark.django_db


def test_owner_edits_the_group(api, alice, scene):
    group = scene["alice_public"]
    data = ok(api(alice).patch(detail(group), {"name": "Renamed", "is_private": True}, format="json"))
    assert data["name"] == "Renamed" and data["is_private"] is True and data["description"] == ""
    group.refresh_from_db()
    assert group.name == "Renamed" and group.is_private


def test_an_admin_edits_the_group(api, alice, bob, scene):
    group = scene["alice_public"]
    Membership.objects.filter(group=group, user=bob).update(role=Role.ADMIN)
    data = ok(api(bob).patch(detail(group), {"description": "now with rules"}, format="json"))
    assert data["description"] == "now with rules" and data["name"] == "alice public"


def test_a_member_cannot_edit(api, bob, scene):
    group = scene["alice_public"]
    err(api(bob).patch(detail(group), {"name": "Mine now"}, format="json"), 403, "forbidden")
    group.refresh_from_db()
    assert group.name == "alice public"


def test_an_outsider_cannot_edit(api, charlie, scene):
    err(api(charlie).patch(detail(scene["alice_public"]), {"name": "x"}, format="json"), 403, "forbidden")
    err(api(charlie).patch(detail(scene["alice_private"]), {"name": "x"}, format="json"), 404, "not_found")
    assert Group.objects.get(pk=scene["alice_private"].pk).name == "alice private"


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "   "}, {"name": None}, {"is_private": "maybe"},
                                  {"name": 5 * ["x"]}])
def test_an_invalid_edit_changes_nothing(api, alice, scene, body):
    group = scene["alice_public"]
    err(api(alice).patch(detail(group), body, format="json"), 400, "validation_error")
    group.refresh_from_db()
    assert group.name == "alice public" and not group.is_private


def test_put_is_not_allowed(api, alice, scene):
    err(api(alice).put(detail(scene["alice_public"]), {"name": "x"}, format="json"), 405, "method_not_allowed")
