"""Long-lived sockets: idle for IDLE_SECONDS (default 600), they still receive at once; a connection storm.

With redis-py 8 defaults, idle `RedisChannelLayer` consumers were seen to die after
~5 s ("Timeout reading from ..."). Here sockets on both layers sit idle for ten
minutes. So that CI does not wait ten minutes for nothing, the sockets are opened
by the first test of the session (the root conftest moves it to the front) and
checked by the last one, which waits only for what is left of the idle time.
The sockets live on an event loop of their own, in a thread, because each test
has its own loop.
"""

import asyncio
import concurrent.futures
import os
import threading
import time

import pytest

from tests import servers
from tests.conftest import needs_redis
from tests.reliability import report
from tests.servers import open_socket, receive, receive_types, send

pytestmark = [pytest.mark.processes, needs_redis, pytest.mark.usefixtures("server_logs_on_failure")]

IDLE_SECONDS = float(os.environ.get("IDLE_SECONDS", 600))
LAYERS = ("core", "pubsub")



class IdleProbe:
    """Two servers (one per layer), with alice and bob connected to each, on a loop in a thread."""

    def __init__(self, stack):
        # A Redis of its own: the rest of the suite empties the stack's Redis (cache.clear() is a
        # FLUSHDB) between tests, which would also wipe these servers' layer groups.
        self.redis = servers.RedisServer(stack.workdir).start()
        stack = servers.Stack(stack.workdir, redis_url=self.redis.url)._share_database(stack)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="idle-probe", daemon=True)
        self.thread.start()
        self.servers = {layer: servers.Server.start(stack, wait=False, server="uvicorn", RELAY_LAYER=layer) for layer in LAYERS}
        self.users = {}
        self.sockets = {}
        for layer, server in self.servers.items():
            server.wait_ready()
            http = server.client()
            self.users[layer] = (http.register(), http.register())
        self.run(self._open())
        self.opened = time.monotonic()

    def run(self, coroutine, timeout=60):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _open(self):
        for layer, (alice, bob) in self.users.items():
            # No client pings: the sockets are truly idle on our side.
            self.sockets[layer] = [(await open_socket(u["socket"], ping_interval=None))[0] for u in (alice, bob)]

    async def check(self, layer):
        """alice's idle socket sends to bob's idle socket: (seconds to deliver, frames bob got while idle)."""
        alice_ws, bob_ws = self.sockets[layer]
        stray = []
        while True:  # anything bob got while idle (a `resync` would mean the layer broke)
            try:
                stray.append(await receive(bob_ws, timeout=0.01))
            except TimeoutError:
                break
        started = time.monotonic()
        await send(alice_ws, "sendmessage", to=self.users[layer][1]["user"]["id"], message="still there?")
        # Other tests on the same database may reach these users too (a hub reads back what it
        # missed from the stream): those frames are strays, not the answer.
        relayed = await receive(bob_ws, timeout=5)
        while relayed.get("message") != "still there?":
            stray.append(relayed)
            relayed = await receive(bob_ws, timeout=5)
        took = time.monotonic() - started
        answers = set()
        while answers != {"ack", "sendmessage"}:
            frame = await receive(alice_ws, timeout=5)
            if frame["type"] == "ack" or frame.get("message") == "still there?":
                answers.add(frame["type"])
            else:
                stray.append(frame)
        return took, stray

    def close(self):
        async def close_all():
            for pair in self.sockets.values():
                for ws in pair:
                    await ws.close()

        try:
            self.run(close_all())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
            for server in self.servers.values():
                server.stop()
            self.redis.kill()


@pytest.fixture(scope="session")
def idle_probe(e2e_stack):
    probe = IdleProbe(e2e_stack)
    yield probe
    probe.close()


def test_idle_sockets_open(idle_probe):
    """Runs first: opens the sockets that test_idle_sockets_still_receive_at_once checks last."""
    assert all(len(pair) == 2 for pair in idle_probe.sockets.values())


@pytest.mark.soak
@pytest.mark.parametrize("layer", LAYERS)
def test_idle_sockets_still_receive_at_once(idle_probe, layer):
    """Runs last: after IDLE_SECONDS with no frame either way, an event arrives at once."""
    left = IDLE_SECONDS - (time.monotonic() - idle_probe.opened)
    if left > 0:
        time.sleep(left)
    idle_for = time.monotonic() - idle_probe.opened
    took, stray = idle_probe.run(idle_probe.check(layer))
    # Other tests on the same database may reach these users (the hub reads back what it missed
    # from the stream); what must not come is a `resync`, which would mean the layer broke.
    assert not [f for f in stray if f["type"] == "resync"], stray
    assert took < 1.0, f"delivered {took:.2f} s after {idle_for:.0f} s idle"
    log = idle_probe.servers[layer].log(tail=1_000_000)
    assert "lost the channel layer" not in log and "Timeout reading" not in log, log[-3000:]
    report.record("idle", server="uvicorn", layer=layer, idle_s=round(idle_for), delivered_in_ms=round(took * 1000, 1))


# --- 2000 sockets connecting at once --------------------------------------------------------------
@pytest.mark.parametrize("layer", LAYERS)
async def test_a_connection_storm_does_not_exhaust_the_redis_pool(e2e_stack, layer):
    users_n, per_user = 20, 100
    # Tickets live long enough for a storm on a busy 2-core machine.
    server = servers.Server.start(e2e_stack, server="uvicorn", RELAY_LAYER=layer, RELAY_MAX_SOCKETS_PER_USER=per_user,
                                  THROTTLE_REGISTER="1000/min", THROTTLE_TICKET="100000/min", SOCKET_TICKET_TTL=600)
    sockets = []
    try:
        http = server.client()
        users = [http.register() for _ in range(users_n)]
        group = http.data("POST", "/api/groups/", {"name": "storm", "description": "", "is_private": False},
                          token=users[0]["access"], expect=201)
        for user in users[1:]:
            http.data("POST", f"/api/groups/{group['id']}/join/", token=user["access"])
        with concurrent.futures.ThreadPoolExecutor(32) as pool:
            tickets = list(pool.map(lambda u: http.socket(u["access"]), [u for u in users for _ in range(per_user)]))
        started = time.monotonic()
        results = await asyncio.gather(*(open_socket(t, timeout=90, max_queue=None) for t in tickets),
                                       return_exceptions=True)
        took = time.monotonic() - started
        failures = [r for r in results if isinstance(r, BaseException)]
        sockets = [r[0] for r in results if not isinstance(r, BaseException)]
        assert not failures, f"{len(failures)} of {len(tickets)} failed, e.g. {failures[0]!r}"
        # Every one of them is live: one group message reaches all 2000.
        await send(sockets[0], "sendmessage", groupid=group["id"], message="all of you")
        own = await receive_types(sockets[0], "ack", "sendmessage", timeout=20)
        frames = [own["sendmessage"], *await asyncio.gather(*(receive(ws, timeout=20) for ws in sockets[1:]))]
        assert [f["type"] for f in frames] == ["sendmessage"] * len(tickets)
        assert {f["id"] for f in frames} == {own["ack"]["id"]}
        log = server.log(tail=1_000_000)
        assert "Too many connections" not in log and "Traceback" not in log, log[-3000:]
        report.record("connect_storm", server="uvicorn", layer=layer, sockets=len(sockets), seconds=round(took, 1),
                      per_second=round(len(sockets) / took), failed=len(failures))
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
        server.stop()
