"""Faults on purpose, against real server processes: Redis goes away and comes back, a process dies.

- Redis: the servers here run on a redis-server of the test's own (tests/servers.RedisServer),
  killed and restarted on the same port while sockets are open, on both channel layers.
- SIGKILL: two processes on the stack's Redis; one is killed with its clients on it.

Each test records what it survived in tests/reliability/report.py, which writes
docs/reliability.md at the end of the run.
"""

import asyncio
import time

import pytest
from websockets.exceptions import ConnectionClosed

from tests import servers
from tests.conftest import needs_redis
from tests.reliability import report
from tests.servers import nothing_more, open_socket, receive, receive_types, send

pytestmark = [pytest.mark.processes, needs_redis, pytest.mark.usefixtures("server_logs_on_failure")]



def create_group(http, owner, *members):
    group = http.data("POST", "/api/groups/", {"name": "faults", "description": "", "is_private": False},
                      token=owner["access"], expect=201)
    for member in members:
        http.data("POST", f"/api/groups/{group['id']}/join/", token=member["access"])
    return group["id"]


def assert_no_server_error(server):
    """No 500 answered and nothing of ours logged as an error (channels-redis logs its own reconnects)."""
    log = server.log(tail=1_000_000)
    assert '" 500 ' not in log and "ERROR kirimin" not in log and "ERROR django.request" not in log.replace(
        "ERROR django.request Service Unavailable", ""), log[-5000:]


async def next_of(ws, type_, timeout=5):
    """The next frame of `type_`, skipping others (e.g. a `resync` that may come first)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = await receive(ws, timeout=max(0.1, deadline - time.monotonic()))
        if frame["type"] == type_:
            return frame


async def replayed(ws, count):
    """The `sendmessage` frames of a since= replay, in arrival order."""
    return [await next_of(ws, "sendmessage") for _ in range(count)]


# --- 1. Redis goes away and comes back ------------------------------------------------------------
@pytest.mark.parametrize("layer", ["core", "pubsub"])
async def test_redis_goes_away_and_comes_back(layer, own_redis_stack, own_redis):
    a = servers.Server.start(own_redis_stack, wait=False, server="uvicorn", RELAY_LAYER=layer)
    b = servers.Server.start(own_redis_stack, wait=False, server="uvicorn", RELAY_LAYER=layer)
    sockets = []
    try:
        a.wait_ready()
        b.wait_ready()
        http_a, http_b = a.client(), b.client()
        alice, bob = http_a.register(), http_b.register()
        alice_ws, _ = await open_socket(alice["socket"])
        bob_ws, _ = await open_socket(bob["socket"])
        sockets += [alice_ws, bob_ws]
        to_bob = bob["user"]["id"]

        await send(alice_ws, "sendmessage", to=to_bob, message="before", ref="0")
        before = (await receive_types(alice_ws, "ack", "sendmessage"))["ack"]
        assert (await receive(bob_ws))["id"] == before["id"]

        own_redis.kill()
        # REST keeps answering: the message is stored, and the answer says it was not relayed.
        status, body = http_a.request("POST", "/api/messages/", {"to": to_bob, "message": "outage 1"},
                                      token=alice["access"])
        assert status == 201, body
        assert body["relayed"] is False
        # So does the socket: stored, acknowledged, and marked.
        await send(alice_ws, "sendmessage", to=to_bob, message="outage 2", ref="2")
        ack = await next_of(alice_ws, "ack")
        assert ack["ref"] == "2" and ack["relayed"] is False and ack["id"] > body["data"]["id"]
        # Reads need only the database; a new socket ticket needs Redis: a clear 503, no 500.
        status, history = http_b.request("GET", f"/api/messages/?with={alice['user']['id']}",
                                         token=bob["access"])
        assert status == 200 and [m["message"] for m in history["data"]["results"][:2]] == ["outage 2", "outage 1"]
        status, body = http_b.request("GET", "/api/auth/is-user/", token=bob["access"])
        assert (status, body["error"]) == (503, "service_unavailable"), body
        status, body = http_b.request("GET", "/healthz/")
        assert status == 503, body

        own_redis.start()
        back = time.monotonic()
        # No `resync`: each hub reads back from the stream what the outage kept from it, and
        # bob's open socket gets both outage messages, in order, before anything newer.
        await send(alice_ws, "sendmessage", to=to_bob, message="after", ref="3")
        after = await next_of(alice_ws, "ack", timeout=15)
        got = [await receive(bob_ws, timeout=15) for _ in range(3)]
        assert [(f["type"], f["message"]) for f in got] == [("sendmessage", "outage 1"), ("sendmessage", "outage 2"),
                                                            ("sendmessage", "after")], got
        assert got[-1]["id"] == after["id"]
        offsets = [f["streams"][f"user:{to_bob}"] for f in got]
        assert offsets == [offsets[0], offsets[0] + 1, offsets[0] + 2]  # bob's stream has no gap
        resumed = time.monotonic() - back
        assert resumed < 10, f"relaying resumed {resumed:.1f} s after Redis came back"

        def to_bob_now(text):
            return send(alice_ws, "sendmessage", to=to_bob, message=text)

        marker = (await nothing_more(bob_ws, to_bob_now))["message"]

        # bob reconnects with since=: every stored message, oldest first, exactly once, then live.
        await bob_ws.close()
        again, _ = await open_socket(http_b.socket(bob["access"]), since=before["id"])
        sockets.append(again)
        assert [m["message"] for m in await replayed(again, 4)] == ["outage 1", "outage 2", "after", marker]
        await nothing_more(again, to_bob_now)
        report.record("redis_outage", server="uvicorn", layer=layer, resumed_s=round(resumed, 2), stored_during_outage=2,
                      delivered_live=sum(f["message"].startswith("outage") for f in got))
    finally:
        for ws in sockets:
            await ws.close()
        a.stop()
        b.stop()
        if own_redis.process.poll() is not None:
            own_redis.start()
    for server in (a, b):
        assert_no_server_error(server)


async def test_a_socket_that_connects_during_the_outage_is_told_to_retry(own_redis_stack, own_redis):
    server = servers.Server.start(own_redis_stack)
    try:
        user = server.client().register()
        ticket = user["socket"]
        own_redis.kill()
        from websockets.asyncio.client import connect

        async with connect(f"ws://{ticket['host']}?id={ticket['id']}", open_timeout=10) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd.code == 1013  # try again later; not 4401: the ticket is still good
        own_redis.start()
        # Redis restarted empty, so that ticket is gone; a fresh one works.
        ws, first = await open_socket(server.client().socket(user["access"]))
        assert first["user"]["id"] == user["user"]["id"]
        await ws.close()
    finally:
        server.stop()
        if own_redis.process.poll() is not None:
            own_redis.start()


async def test_a_dropped_subscriber_connection_loses_nothing(own_redis_stack, own_redis):
    """Redis drops a pub/sub subscriber that falls behind its output buffer limit (and on restarts):
    channels-redis reconnects quietly, losing what was published meanwhile. While alice keeps
    sending through the kill, bob's socket on the other process gets every acknowledged message
    once, in order, with no `resync`: his hub reads back what the layer lost."""
    import redis

    a = servers.Server.start(own_redis_stack, wait=False, server="uvicorn", RELAY_LAYER="pubsub")
    b = servers.Server.start(own_redis_stack, wait=False, server="uvicorn", RELAY_LAYER="pubsub")
    sockets = []
    try:
        a.wait_ready()
        b.wait_ready()
        alice, bob = a.client().register(), b.client().register()
        alice_ws, _ = await open_socket(alice["socket"])
        bob_ws, _ = await open_socket(bob["socket"])
        sockets += [alice_ws, bob_ws]
        acked, got = [], []

        async def sender():
            for i in range(60):
                await send(alice_ws, "sendmessage", to=bob["user"]["id"], message=f"m{i}", ref=str(i))
                acked.append((await next_of(alice_ws, "ack"))["id"])
                await asyncio.sleep(0.03)

        sending = asyncio.create_task(sender())
        await asyncio.sleep(0.5)
        killed = redis.Redis(port=own_redis.port).client_kill_filter(_type="pubsub")
        assert killed >= 2  # both processes' subscriber connections
        await sending
        while len(got) < len(acked):
            got.append(await receive(bob_ws, timeout=10))
        assert [f["type"] for f in got] == ["sendmessage"] * len(acked)  # no resync
        assert [f["id"] for f in got] == acked  # each once, in order
        await nothing_more(bob_ws, lambda text: send(alice_ws, "sendmessage", to=bob["user"]["id"], message=text))
        report.record("subscriber_dropped", server="uvicorn", acknowledged=len(acked), delivered=len(got),
                      lost=len(set(acked) - {f["id"] for f in got}))
    finally:
        for ws in sockets:
            await ws.close()
        a.stop()
        b.stop()


# --- 2. a server process is killed -------------------------------------------------------------------
async def test_clients_of_a_killed_process_recover_on_another(e2e_stack):
    a = servers.Server.start(e2e_stack, wait=False, server="uvicorn", RELAY_PRESENCE_TTL=3)
    b = servers.Server.start(e2e_stack, wait=False, server="uvicorn", RELAY_PRESENCE_TTL=3)
    sockets = []
    try:
        a.wait_ready()
        b.wait_ready()
        http_b = b.client()
        alice, bob, carol = http_b.register(), a.client().register(), a.client().register()
        group_id = create_group(http_b, alice, bob, carol)
        alice_ws, _ = await open_socket(alice["socket"])  # on B
        bob_ws, _ = await open_socket(bob["socket"])  # bob and carol only on A
        carol_ws, _ = await open_socket(carol["socket"])
        sockets += [alice_ws, bob_ws, carol_ws]

        await send(alice_ws, "sendmessage", groupid=group_id, message="m0")
        m0 = (await receive_types(alice_ws, "ack", "sendmessage"))["ack"]["id"]
        for ws in (bob_ws, carol_ws):
            assert (await receive(ws))["id"] == m0

        def online():
            members = http_b.data("GET", f"/api/groups/{group_id}/members/", token=alice["access"])["results"]
            return {m["user"]["username"]: m["online"] for m in members}

        assert online()[carol["user"]["username"]] is True

        a.kill()
        killed = time.monotonic()
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await bob_ws.recv()  # a `presence` frame may come before the close
        sent = []
        for n in range(1, 6):
            await send(alice_ws, "sendmessage", groupid=group_id, message=f"m{n}")
            sent.append((await receive_types(alice_ws, "ack", "sendmessage"))["ack"]["id"])
        await send(alice_ws, "sendmessage", to=bob["user"]["id"], message="dm")
        sent.append((await receive_types(alice_ws, "ack", "sendmessage"))["ack"]["id"])

        # bob comes back on B with a fresh ticket and since=: every message once, in order, then live.
        bob_again, first = await open_socket(http_b.socket(bob["access"]), since=m0)
        sockets.append(bob_again)
        assert first["groups"] == [group_id]
        got = await replayed(bob_again, len(sent))
        assert [m["id"] for m in got] == sent
        assert [m["message"] for m in got] == ["m1", "m2", "m3", "m4", "m5", "dm"]
        await send(alice_ws, "sendmessage", groupid=group_id, message="live")
        live = (await receive_types(alice_ws, "ack", "sendmessage"))["ack"]["id"]
        assert (await receive(bob_again))["id"] == live
        await nothing_more(bob_again, lambda text: send(alice_ws, "sendmessage", groupid=group_id, message=text))

        # carol's only socket died with A: she drops offline within the presence TTL.
        while online()[carol["user"]["username"]]:
            assert time.monotonic() - killed < 8, "carol still online 8 s after her process died"
            await asyncio.sleep(0.25)
        offline_after = time.monotonic() - killed
        assert online()[bob["user"]["username"]] is True
        report.record("sigkill", server="uvicorn", replayed=len(got), sent_meanwhile=len(sent),
                      presence_expired_s=round(offline_after, 2))
    finally:
        for ws in sockets:
            await ws.close()
        a.kill()
        b.stop()
    assert_no_server_error(b)


async def test_a_process_stopped_with_sigterm_takes_its_users_offline_at_once(e2e_stack):
    a = servers.Server.start(e2e_stack, wait=False, RELAY_PRESENCE_TTL=30)
    b = servers.Server.start(e2e_stack, wait=False, RELAY_PRESENCE_TTL=30)
    try:
        a.wait_ready()
        b.wait_ready()
        http_b = b.client()
        alice, carol = http_b.register(), a.client().register()
        group_id = create_group(http_b, alice, carol)
        ws, _ = await open_socket(carol["socket"])

        def carol_online():
            members = http_b.data("GET", f"/api/groups/{group_id}/members/", token=alice["access"])["results"]
            return next(m["online"] for m in members if m["user"]["id"] == carol["user"]["id"])

        assert carol_online() is True
        a.stop()  # SIGTERM, as a deploy does
        assert a.process.returncode is not None
        assert carol_online() is False  # not after the 30 s TTL: at once
        await ws.close()
    finally:
        a.kill()
        b.stop()


def test_health_checks_leave_no_subscription_behind(own_redis_stack, own_redis):
    """/healthz/ opens a layer channel for its round trip; on the pub/sub layer each one is a
    Redis subscription that channels-redis keeps until told otherwise. A probe every few
    seconds must not pile them up."""
    import redis

    admin = redis.Redis.from_url(own_redis.url)
    server = servers.Server.start(own_redis_stack, RELAY_LAYER="pubsub")
    try:
        http = server.client()
        before = len(admin.pubsub_channels("kirimin*"))
        for _ in range(20):
            status, body = http.request("GET", "/healthz/")
            assert status == 200, body
        after = len(admin.pubsub_channels("kirimin*"))
        assert after <= before, f"{after - before} subscriptions left behind by 20 health checks"
    finally:
        server.stop()
        admin.close()
