"""The `join` frame (SPEC §6): refused as over REST.

What a join relays is in tests/groups/actions/test_join_group.py (once through this frame,
once through REST); the REST endpoint in tests/groups/api/test_join.py; the frame's
validation is with every frame's, in tests/relay/test_frames.py.
"""

import pytest

from groups import actions as group_actions
from tests.sockets import call, error_of, send, still_alive

pytestmark = pytest.mark.django_db(transaction=True)


async def test_joining_a_private_group_is_forbidden_as_over_rest(connect, alice, bob):
    private = await call(group_actions.create_group, actor=bob, name="Secret", is_private=True)
    comm = await connect(alice)
    await send(comm, "join", groupid=private.pk, ref="j")
    await error_of(comm, "forbidden", ref="j")
    await still_alive(comm)
