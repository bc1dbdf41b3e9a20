"""The desk's "delete groups": audited, and the members' sockets leave the group.

Deleting a group over REST is in tests/groups/api/test_delete_group.py.
"""

import pytest

from moderation.models import ModerationLog
from tests.conftest import group_with
from tests.moderation.conftest import run_action
from tests.sockets import call, expect, send

pytestmark = pytest.mark.django_db(transaction=True)


async def test_deleting_a_group_from_the_desk_is_audited_and_takes_its_members_sockets_off_it(
        superdesk, alice, bob, charlie, connect):
    from groups.models import Group

    group = await call(group_with, alice, bob)
    bob_socket = await connect(bob)
    await call(run_action, superdesk, "groups.group", "delete_groups", [group], "Coordinated spam.")
    assert not await Group.objects.filter(pk=group.pk).aexists()
    entry = await ModerationLog.objects.aget()
    assert (entry.action, entry.target_type, entry.target_id, entry.reason) == (
        "delete_group", "group", group.pk, "Coordinated spam.")
    await send(bob_socket, "sendmessage", groupid=group.pk, message="still here?", ref="m")
    assert (await expect(bob_socket, "error"))["code"] == "not_found"
