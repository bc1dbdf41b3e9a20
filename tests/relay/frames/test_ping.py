"""The `ping` frame (SPEC §6): answered with `pong`, with the frame's `ref`, signed in or not.

The other frames that need no user are in tests/relay/frames/test_connection.py; every
frame's validation, size and rate limits in tests/relay/test_frames.py.
"""

import pytest

from tests.sockets import IDENTIFIER, recv, send, still_alive

pytestmark = pytest.mark.django_db(transaction=True)


async def test_ping_is_answered_with_pong_and_ref(connect, alice):
    comm = await connect(alice)
    await send(comm, "ping", ref="p-1")
    assert await recv(comm) == {"identifier": IDENTIFIER, "type": "pong", "ref": "p-1"}
    await send(comm, "ping")
    assert await recv(comm) == {"identifier": IDENTIFIER, "type": "pong"}


async def test_anonymous_ping_is_answered(connect):
    comm = await connect()
    await still_alive(comm)
