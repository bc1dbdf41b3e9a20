"""The `leave` frame (SPEC §6): the owner's refusal, as over REST.

What a leave relays is in tests/groups/actions/test_leave_group.py (once through this frame,
once through REST); the REST endpoint in tests/groups/api/test_leave.py; the frame's
validation is with every frame's, in tests/relay/test_frames.py.
"""

import pytest

from groups import actions as group_actions
from tests.sockets import call, error_of, send

pytestmark = pytest.mark.django_db(transaction=True)


async def test_owner_leaving_is_conflict(connect, alice):
    group = await call(group_actions.create_group, actor=alice, name="Chess")
    comm = await connect(alice)
    await send(comm, "leave", groupid=group.pk, ref="own")
    await error_of(comm, "owner_cannot_leave", ref="own")
