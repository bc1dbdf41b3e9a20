"""The relay across real server processes (daphne + the `websockets` client), SPEC §6 and §7.

Module-scoped servers are shared by the tests here; each test signs up its own users.
"""

import asyncio
import time

import pytest

from relay.stream import presence
from tests import servers
from tests.conftest import needs_redis
from tests.servers import nothing_more, open_socket, receive, receive_types, send

pytestmark = [pytest.mark.processes, pytest.mark.usefixtures("server_logs_on_failure")]


@pytest.fixture(autouse=True)
def _fast_tests():
    """Override the suite's cache.clear(): on Redis that is FLUSHDB, which would wipe the layer
    groups and presence of the servers running across these tests."""
    yield


@pytest.fixture(scope="module")
def embedded_server(embedded_stack):
    server = servers.Server.start(embedded_stack)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pair(e2e_stack):
    """Two processes on one database and one Redis."""
    with servers.running(e2e_stack) as both:
        yield both


@pytest.fixture(scope="module")
def pubsub_server(e2e_stack):
    server = servers.Server.start(e2e_stack, RELAY_LAYER="pubsub")
    yield server
    server.stop()


def create_group(stack, owner_username, *, name="e2e"):
    """A public group owned by `owner_username`, created through the domain action (no REST for groups here)."""
    return int(stack.python(
        "from accounts.models import User; from groups.actions import create_group; "
        f"print(create_group(actor=User.objects.get(username={owner_username!r}), name={name!r}).pk)"
    ))


# --- (a) the embedded default, one process -----------------------------------------------------------
async def test_direct_message_on_the_embedded_default(embedded_server):
    http = embedded_server.client()
    alice, bob = http.register(), http.register()
    assert alice["socket"]["host"] == f"127.0.0.1:{embedded_server.port}/ws/"
    alice_ws, first = await open_socket(alice["socket"])
    bob_ws, _ = await open_socket(bob["socket"])
    try:
        assert first["user"] == alice["user"]
        await send(alice_ws, "sendmessage", to=bob["user"]["id"], message="hello over TCP", ref="a")
        frames = await receive_types(alice_ws, "ack", "sendmessage")
        relayed = await receive(bob_ws)
        # The same frame, each told their own stream's offset only.
        assert {**relayed, "streams": None} == {**frames["sendmessage"], "streams": None}
        assert set(relayed["streams"]) == {f"user:{bob['user']['id']}"}
        assert relayed["from"] == alice["user"] and relayed["message"] == "hello over TCP"
    finally:
        await alice_ws.close()
        await bob_ws.close()


async def test_ticket_is_single_use_on_a_real_server(embedded_server):
    from websockets.exceptions import ConnectionClosed

    http = embedded_server.client()
    alice = http.register()
    ws, _ = await open_socket(alice["socket"])
    await ws.close()
    from websockets.asyncio.client import connect

    async with connect(f"ws://{alice['socket']['host']}?id={alice['socket']['id']}") as again:
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(again.recv(), 5)
    assert closed.value.rcvd.code == 4401
    fresh, first = await open_socket(http.socket(alice["access"]))  # is-user mints a new one
    assert first["user"]["id"] == alice["user"]["id"]
    await fresh.close()


# --- (b) two processes, one Redis, one database ---------------------------------------------------------
@needs_redis
async def test_frame_on_one_process_reaches_a_socket_on_the_other(pair):
    a, b = pair
    alice = a.client().register()
    bob = b.client().register()
    assert bob["socket"]["host"].endswith(f":{b.port}/ws/")
    alice_ws, _ = await open_socket(alice["socket"])
    bob_ws, _ = await open_socket(bob["socket"])
    try:
        await send(alice_ws, "sendmessage", to=bob["user"]["id"], message="across processes", ref="x")
        frames = await receive_types(alice_ws, "ack", "sendmessage")
        relayed = await receive(bob_ws)
        assert {**relayed, "streams": None} == {**frames["sendmessage"], "streams": None}
        assert set(relayed["streams"]) == {f"user:{bob['user']['id']}"}
    finally:
        await alice_ws.close()
        await bob_ws.close()


@needs_redis
async def test_membership_is_live_on_every_process(pair, e2e_stack):
    a, b = pair
    alice = a.client().register()
    bob = a.client().register()
    alice_ws, _ = await open_socket(alice["socket"])
    bob_on_a, _ = await open_socket(bob["socket"])
    bob_on_b, first = await open_socket(b.client().socket(bob["access"]))
    try:
        group_id = await asyncio.to_thread(create_group, e2e_stack, alice["user"]["username"])
        assert first["groups"] == []
        # The join happens on process A; bob's already open socket on B follows it.
        await send(bob_on_a, "join", groupid=group_id, ref="j")
        assert (await receive_types(bob_on_a, "ack", "join"))["ack"]["changed"] is True
        joined = await receive(bob_on_b)
        assert joined["type"] == "join" and joined["groupid"] == group_id
        # alice's own join, creating the group (it starts the group's stream), then bob's.
        created, seen = await receive(alice_ws), await receive(alice_ws)
        assert (created["user"]["id"], seen["user"]["id"]) == (alice["user"]["id"], bob["user"]["id"])
        assert (created["streams"][f"group:{group_id}"], seen["streams"][f"group:{group_id}"]) == (1, 2)
        await send(alice_ws, "sendmessage", groupid=group_id, message="welcome, bob")
        await receive_types(alice_ws, "ack", "sendmessage")
        for ws in (bob_on_a, bob_on_b):
            assert (await receive(ws))["message"] == "welcome, bob"
        # ... and a leave on A silences bob's socket on B.
        await send(bob_on_a, "leave", groupid=group_id)
        await receive_types(bob_on_a, "ack", "leave")
        assert (await receive(bob_on_b))["type"] == "leave"
        assert (await receive(alice_ws))["type"] == "leave"
        await send(alice_ws, "sendmessage", groupid=group_id, message="just me now")
        await receive_types(alice_ws, "ack", "sendmessage")
        # Neither of bob's sockets gets it: the next thing each gets is a direct message sent after it.
        marker = await nothing_more(bob_on_b, lambda text: send(alice_ws, "sendmessage", to=bob["user"]["id"],
                                                                 message=text))
        assert (await receive(bob_on_a))["message"] == marker["message"]
    finally:
        for ws in (alice_ws, bob_on_a, bob_on_b):
            await ws.close()


# --- (c) an idle socket still receives at once (the redis-py 5 s read-timeout trap) -----------------------
@needs_redis
@pytest.mark.parametrize("layer", ["core", "pubsub"])
async def test_idle_socket_still_receives_at_once(layer, request):
    server = request.getfixturevalue("pair")[0] if layer == "core" else request.getfixturevalue("pubsub_server")
    http = server.client()
    alice, bob = http.register(), http.register()
    alice_ws, _ = await open_socket(alice["socket"], ping_interval=None)
    bob_ws, _ = await open_socket(bob["socket"], ping_interval=None)
    try:
        await asyncio.sleep(8)  # longer than the layer's 5 s blocking read
        started = time.monotonic()
        await send(alice_ws, "sendmessage", to=bob["user"]["id"], message="still there?")
        relayed = await receive(bob_ws, timeout=2)  # not a `resync`, not late
        assert relayed["type"] == "sendmessage" and relayed["message"] == "still there?", relayed
        assert time.monotonic() - started < 1.5
        await receive_types(alice_ws, "ack", "sendmessage")
    finally:
        await alice_ws.close()
        await bob_ws.close()
    assert "lost the channel layer" not in server.log()


# --- (d) presence after a crash ----------------------------------------------------------------------------
@needs_redis
async def test_presence_expires_after_an_abrupt_disconnect(e2e_stack, settings, monkeypatch):
    settings.REDIS_URL = e2e_stack.redis_url
    monkeypatch.setattr(presence, "_sync_client", None)
    server = servers.Server.start(e2e_stack, RELAY_PRESENCE_TTL=3)
    try:
        user = server.client().register()
        user_id = user["user"]["id"]
        ws, _ = await open_socket(user["socket"])
        assert presence.online_user_ids([user_id]) == {user_id}
        server.kill()
        killed_at = time.monotonic()
        assert presence.online_user_ids([user_id]) == {user_id}  # nobody said goodbye
        while presence.online_user_ids([user_id]):
            assert time.monotonic() - killed_at < 5, "still online 5 s after the crash"
            await asyncio.sleep(0.2)
        await ws.close()
    finally:
        server.kill()


# --- (d) under uvicorn, the other supported server -------------------------------------------------
@pytest.fixture(scope="module")
def uvicorn_server(e2e_stack):
    """uvicorn as `make run SERVER=uvicorn` and the Docker image run it."""
    server = servers.Server.start(e2e_stack, server="uvicorn")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def uvicorn_deflate_server(e2e_stack):
    """uvicorn with its own default, which accepts permessage-deflate."""
    server = servers.Server.start(e2e_stack, server="uvicorn-deflate")
    yield server
    server.stop()


async def test_uvicorn_as_shipped_declines_deflate_and_relays_to_browser_like_sockets(uvicorn_server):
    """Browsers always offer permessage-deflate. The shipped command declines it (as socket.io
    does by default), so their sockets take the hub's prepared frames: one frame per event
    for every member instead of one compression per member; they get every message, in order."""
    http = uvicorn_server.client()
    alice, bob = http.register(), http.register()
    group = http.data("POST", "/api/groups/", {"name": "browsers", "description": "", "is_private": False},
                      token=alice["access"], expect=201)
    http.data("POST", f"/api/groups/{group['id']}/join/", token=bob["access"])
    browser, _ = await open_socket(http.socket(bob["access"]))  # offers deflate, as browsers do
    sender, _ = await open_socket(alice["socket"])
    try:
        assert not browser.protocol.extensions and not sender.protocol.extensions
        for i in range(30):
            await send(sender, "sendmessage", groupid=group["id"], message=f"g{i}", ref=str(i))
        got = [await receive(browser) for _ in range(30)]
        assert [f["message"] for f in got] == [f"g{i}" for i in range(30)]
    finally:
        for ws in (browser, sender):
            await ws.close()


async def test_uvicorn_relays_to_compressed_and_plain_sockets_alike(uvicorn_deflate_server):
    """With deflate accepted, a socket that negotiated it gets events framed (and compressed)
    by the server, the others get the hub's prepared frames; both see every message, in order."""
    http = uvicorn_deflate_server.client()
    alice, bob = http.register(), http.register()
    group = http.data("POST", "/api/groups/", {"name": "mixed", "description": "", "is_private": False},
                      token=alice["access"], expect=201)
    http.data("POST", f"/api/groups/{group['id']}/join/", token=bob["access"])
    compressed, _ = await open_socket(http.socket(bob["access"]))  # the client offers deflate
    plain, _ = await open_socket(http.socket(bob["access"]), compression=None)
    sender, _ = await open_socket(alice["socket"], compression=None)
    try:
        assert compressed.protocol.extensions and not plain.protocol.extensions
        for i in range(30):  # pipelined: sent before any answer is read
            await send(sender, "sendmessage", groupid=group["id"], message=f"g{i}", ref=str(i))
        await send(sender, "sendmessage", to=bob["user"]["id"], message="direct", ref="dm")
        for ws in (compressed, plain):
            got = [await receive(ws) for _ in range(31)]
            assert [f["message"] for f in got] == [f"g{i}" for i in range(30)] + ["direct"]
            assert [f["id"] for f in got] == sorted(f["id"] for f in got)
    finally:
        for ws in (compressed, plain, sender):
            await ws.close()


# --- (d) a large group's presence, across processes -----------------------------------------------------
@pytest.fixture(scope="module")
def small_cap_pair(e2e_stack):
    """Two processes that count every group of more than two members as large."""
    with servers.running(e2e_stack, RELAY_PRESENCE_MAX_MEMBERS="2") as both:
        yield both


@needs_redis
@pytest.mark.parametrize("run", [1, 2, 3])
async def test_a_large_groups_presence_reaches_its_followers_only_across_processes(small_cap_pair, e2e_stack, run):
    """The user comes online on process A; on process B, a member following the group's
    `presence:<id>` hears it, with no word of the user's other groups in its streams; a member
    kicked after following it, and an outsider (who may not follow), hear nothing."""
    a, b = small_cap_pair
    owner, follower, kicked, outsider, subject = (b.client().register() for _ in range(5))
    group_id = await asyncio.to_thread(create_group, e2e_stack, owner["user"]["username"], name=f"hall{run}")
    other_id = await asyncio.to_thread(create_group, e2e_stack, owner["user"]["username"], name=f"annex{run}")
    for user, groups in ((follower, [group_id]), (kicked, [group_id, other_id]), (subject, [group_id, other_id])):
        for g in groups:
            b.client().data("POST", f"/api/groups/{g}/join/", token=user["access"])
    sockets = {}
    try:
        for name, user in (("follower", follower), ("kicked", kicked), ("outsider", outsider)):
            sockets[name], _ = await open_socket(user["socket"])
        channel = f"presence:{group_id}"
        for name in ("follower", "kicked"):
            await send(sockets[name], "subscribe", channel=channel, ref="s")
            assert (await receive(sockets[name]))["subscribed"] == channel
        await send(sockets["outsider"], "subscribe", channel=channel, ref="s")
        assert (await receive(sockets["outsider"]))["code"] == "not_found"
        a.client().data("POST", f"/api/groups/{group_id}/kick/", {"user_id": kicked["user"]["id"]},
                        token=owner["access"])
        await receive_types(sockets["kicked"], "kick", "notification")

        sockets["subject"], _ = await open_socket(a.client().socket(subject["access"]))  # on process A
        async with asyncio.timeout(10):
            while (frame := await receive(sockets["follower"], presence=True))["type"] != "presence" or \
                    frame["user"]["id"] != subject["user"]["id"]:
                pass
        assert frame["online"] is True and set(frame["streams"]) == {channel}, frame
        for name, user in (("kicked", kicked), ("outsider", outsider)):
            marker = f"marker {run} {name}"
            a.client().data("POST", "/api/messages/", {"to": user["user"]["id"], "message": marker},
                            token=owner["access"], expect=201)
            assert (await receive(sockets[name], presence=True)).get("message") == marker
    finally:
        for ws in sockets.values():
            await ws.close()
