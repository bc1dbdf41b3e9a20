"""`DELETE /api/groups/{id}/` (SPEC §3): only the owner deletes, or staff with the desk's
permission, with an audit row.

Creating and editing a group have their own files (tests/groups/api/test_create_group.py and
test_update_group.py); the desk's own deletion is in tests/moderation/.
"""

import pytest

from groups.models import Group, Membership, Role
from tests.conftest import detail, err, ok

pytestmark = pytest.mark.django_db


def test_owner_deletes_the_group(api, alice, scene):
    group = scene["alice_public"]
    assert ok(api(alice).delete(detail(group))) is None
    assert not Group.objects.filter(pk=group.pk).exists()
    assert not Membership.objects.filter(group_id=group.pk).exists()
    err(api(alice).get(detail(group)), 404, "not_found")


def test_only_the_owner_deletes(api, bob, charlie, scene):
    group = scene["alice_public"]
    Membership.objects.filter(group=group, user=bob).update(role=Role.ADMIN)
    err(api(bob).delete(detail(group)), 403, "forbidden")
    err(api(charlie).delete(detail(group)), 403, "forbidden")
    err(api(charlie).delete(detail(scene["alice_private"])), 404, "not_found")
    assert Group.objects.filter(pk__in=[group.pk, scene["alice_private"].pk]).count() == 2


def test_staff_delete_a_group_only_with_the_desks_permission_and_an_audit_row(api, make_user, scene):
    """Being staff is not a permission: REST goes through the moderation desk's check and audit."""
    from moderation.models import ModerationLog

    group = scene["alice_public"]
    err(api(make_user("intern", is_staff=True)).delete(detail(group)), 403, "forbidden")
    assert Group.objects.filter(pk=group.pk).exists() and not ModerationLog.objects.exists()
    moderator = make_user("mod", is_staff=True, perms=["groups.delete_group"])
    assert ok(api(moderator).delete(detail(group), {"reason": "abandoned spam group"}, format="json")) is None
    assert not Group.objects.filter(pk=group.pk).exists()
    entry = ModerationLog.objects.get()
    assert (entry.moderator, entry.action, entry.target_type, entry.target_id, entry.reason) == (
        moderator, "delete_group", "group", group.pk, "abandoned spam group")
