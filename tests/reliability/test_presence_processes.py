"""Live presence across real server processes (two uvicorn processes on PostgreSQL and Redis):
a user who comes online on one process is announced to a co-member on the other, a
reconnect to the other process within the debounce says nothing, and the users of a
process that crashes (SIGKILL) are announced offline within the presence TTL."""

import asyncio
import time

import pytest

from tests import servers
from tests.conftest import REDIS_URL
from tests.reliability.conftest import UNLIMITED
from tests.servers import open_socket, receive

pytestmark = [pytest.mark.processes, pytest.mark.usefixtures("server_logs_on_failure"),
              pytest.mark.skipif(not REDIS_URL, reason="presence across processes lives in Redis")]

TTL = 3
SETTINGS = {**UNLIMITED, "RELAY_PRESENCE_TTL": TTL, "RELAY_PRESENCE_DEBOUNCE": 1, "RELAY_STREAM_POLL": 0.5}


@pytest.fixture
def pair(e2e_stack):
    with servers.running(e2e_stack, 2, server="uvicorn", **SETTINGS) as started:
        yield started


async def presence(ws, timeout=10):
    """The next `presence` frame (other frames skipped)."""
    async with asyncio.timeout(timeout):
        while True:
            frame = await receive(ws, timeout=timeout, presence=True)
            if frame["type"] == "presence":
                return frame


async def no_presence(ws, seconds):
    try:
        frame = await presence(ws, timeout=seconds)
    except TimeoutError:
        return
    raise AssertionError(f"expected no presence frame, got {frame}")


def group_of_two(a, b):
    http_a, http_b = a.client(), b.client()
    alice, bob = http_a.register(), http_b.register()
    group = http_a.data("POST", "/api/groups/", {"name": "pair", "is_private": True},
                        token=alice["access"], expect=201)["id"]
    http_a.data("POST", f"/api/groups/{group}/members/", {"user_id": bob["user"]["id"]},
                token=alice["access"], expect=201)
    return alice, bob


async def test_presence_crosses_processes_without_flapping_and_a_crash_is_announced(pair):
    a, b = pair
    alice, bob = group_of_two(a, b)
    bob_ws, _ = await open_socket(bob["socket"])  # on b
    alice_ws, _ = await open_socket(alice["socket"])  # on a
    try:
        came = await presence(bob_ws)
        assert (came["user"]["id"], came["online"]) == (alice["user"]["id"], True)

        # Alice's socket moves to the other process within the debounce: nothing to tell.
        await alice_ws.close()
        alice_ws, _ = await open_socket(b.client().socket(alice["access"]))
        await no_presence(bob_ws, 3)
        await alice_ws.close()
        went = await presence(bob_ws)
        assert (went["user"]["id"], went["online"]) == (alice["user"]["id"], False)
        assert went["last_seen"]

        # Back on a, which then crashes: b reaps it and tells Bob within the TTL.
        alice_ws, _ = await open_socket(a.client().socket(alice["access"]))
        assert (await presence(bob_ws))["online"] is True
        a.kill()
        crashed = time.monotonic()
        went = await presence(bob_ws, timeout=TTL + 5)
        took = time.monotonic() - crashed
        print(f"announced offline {took:.2f} s after the crash")
        assert (went["user"]["id"], went["online"]) == (alice["user"]["id"], False)
        assert took <= TTL + 2, f"announced offline {took:.1f} s after the crash (TTL {TTL} s)"
    finally:
        await bob_ws.close()
