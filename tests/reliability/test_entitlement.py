"""Nobody receives what they may not see, on real server processes (two uvicorn processes on
the stack under test): a group made private stops reaching the sockets that subscribed to it
from outside, a banned subscriber stops getting it, and sockets that open while their user is
kicked never keep the group.

"Never" is observed, not waited for: each check sends a last event that the socket must get,
and the stream delivers in order, so what did not come before it will not come after."""

import asyncio

import pytest

from tests import servers
from tests.reliability.conftest import UNLIMITED
from tests.servers import open_socket, receive, send

pytestmark = [pytest.mark.processes, pytest.mark.usefixtures("server_logs_on_failure")]


@pytest.fixture(scope="module")
def pair(e2e_stack):
    with servers.running(e2e_stack, 2, server="uvicorn", **UNLIMITED) as started:
        yield started


async def frames_until(ws, predicate, timeout=10):
    """Every frame up to and including the first that `predicate` accepts."""
    got = []
    while not got or not predicate(got[-1]):
        got.append(await receive(ws, timeout=timeout))
    return got


async def subscribed(ws, channel):
    await send(ws, "subscribe", channel=channel, ref="s")
    return await frames_until(ws, lambda f: f.get("ref") == "s")


async def test_a_group_made_private_stops_reaching_outside_subscribers_on_every_process(pair):
    a, b = pair
    http_a, http_b = a.client(), b.client()
    alice, bob, carol = http_a.register(), http_b.register(), http_a.register()
    group = http_a.data("POST", "/api/groups/", {"name": "soon private", "is_private": False},
                        token=alice["access"], expect=201)["id"]
    http_b.data("POST", f"/api/groups/{group}/join/", token=bob["access"])
    # Another public group that carol, the anonymous socket and bob all follow: the last event.
    beacon = http_a.data("POST", "/api/groups/", {"name": "beacon", "is_private": False},
                         token=alice["access"], expect=201)["id"]
    http_b.data("POST", f"/api/groups/{beacon}/join/", token=bob["access"])
    bob_ws, _ = await open_socket(bob["socket"])
    carol_ws, _ = await open_socket(carol["socket"])  # on a, signed in, not a member
    from websockets.asyncio.client import connect

    anon_ws = await connect(f"ws://127.0.0.1:{b.port}/ws/")  # on b, no credentials
    await receive(anon_ws)
    try:
        for ws in (carol_ws, anon_ws):
            assert (await subscribed(ws, f"group:{group}"))[-1]["type"] == "ack"
            assert (await subscribed(ws, f"group:{beacon}"))[-1]["type"] == "ack"
        http_a.data("POST", f"/api/groups/{group}/messages/", {"message": "still public"}, token=alice["access"],
                    expect=201)
        for ws in (bob_ws, carol_ws, anon_ws):
            assert (await frames_until(ws, lambda f: f["type"] == "sendmessage"))[-1]["message"] == "still public"

        http_a.data("PATCH", f"/api/groups/{group}/", {"is_private": True}, token=alice["access"])
        secret = http_a.data("POST", f"/api/groups/{group}/messages/", {"message": "secret"},
                             token=alice["access"], expect=201)["id"]
        last = http_a.data("POST", f"/api/groups/{beacon}/messages/", {"message": "beacon"},
                           token=alice["access"], expect=201)["id"]
        got = await frames_until(bob_ws, lambda f: f.get("id") == last)
        assert secret in [f.get("id") for f in got]  # the member still gets it
        for ws in (carol_ws, anon_ws):
            got = await frames_until(ws, lambda f: f.get("id") == last)
            assert secret not in [f.get("id") for f in got], got
            again = await subscribed(ws, f"group:{group}")
            assert again[-1]["type"] == "error" and again[-1]["code"] == "not_found", again
    finally:
        for ws in (bob_ws, carol_ws, anon_ws):
            await ws.close()


async def test_a_banned_subscriber_stops_getting_the_group_and_cannot_subscribe_again(pair):
    a, b = pair
    alice, dave = a.client().register(), b.client().register()
    group = a.client().data("POST", "/api/groups/", {"name": "public", "is_private": False},
                            token=alice["access"], expect=201)["id"]
    dave_ws, _ = await open_socket(dave["socket"])
    try:
        assert (await subscribed(dave_ws, f"group:{group}"))[-1]["type"] == "ack"
        assert (await subscribed(dave_ws, f"user:{dave['user']['id']}"))[-1]["type"] == "error"
        a.client().data("POST", f"/api/groups/{group}/kick/", {"user_id": dave["user"]["id"], "ban": True},
                        token=alice["access"])
        secret = a.client().data("POST", f"/api/groups/{group}/messages/", {"message": "after the ban"},
                                 token=alice["access"], expect=201)["id"]
        # dave's own stream: a friend request from alice is the last event he must get.
        a.client().data("POST", "/api/friends/requests/", {"to": dave["user"]["id"]}, token=alice["access"],
                        expect=201)
        got = await frames_until(dave_ws, lambda f: f["type"] == "friendrequest")
        assert secret not in [f.get("id") for f in got if f["type"] == "sendmessage"], got
        again = await subscribed(dave_ws, f"group:{group}")
        assert again[-1]["type"] == "error" and again[-1]["code"] == "not_found", again
    finally:
        await dave_ws.close()


async def test_sockets_that_open_while_their_user_is_kicked_never_keep_the_group(pair):
    a, b = pair
    http_a, http_b = a.client(), b.client()
    alice, bob = http_a.register(), http_b.register()
    group = http_a.data("POST", "/api/groups/", {"name": "private", "is_private": True},
                        token=alice["access"], expect=201)["id"]
    beacon = http_a.data("POST", "/api/groups/", {"name": "beacon", "is_private": False},
                         token=alice["access"], expect=201)["id"]
    http_b.data("POST", f"/api/groups/{beacon}/join/", token=bob["access"])
    opened = []
    try:
        for round_ in range(4):
            http_a.data("POST", f"/api/groups/{group}/members/", {"user_id": bob["user"]["id"]},
                        token=alice["access"], expect=201)
            tickets = [(a if i % 2 else b).client().socket(bob["access"]) for i in range(8)]
            connecting = [asyncio.create_task(open_socket(t)) for t in tickets]
            await asyncio.sleep(0.01 * round_)
            await asyncio.to_thread(http_a.data, "POST", f"/api/groups/{group}/kick/",
                                    {"user_id": bob["user"]["id"]}, alice["access"])
            sockets = [ws for ws, _ in await asyncio.gather(*connecting)]
            opened += sockets
            secret = http_a.data("POST", f"/api/groups/{group}/messages/", {"message": f"secret {round_}"},
                                 token=alice["access"], expect=201)["id"]
            last = http_a.data("POST", f"/api/groups/{beacon}/messages/", {"message": f"beacon {round_}"},
                               token=alice["access"], expect=201)["id"]
            for ws in sockets:
                got = await frames_until(ws, lambda f, last=last: f.get("id") == last)
                assert secret not in [f.get("id") for f in got if f["type"] == "sendmessage"], got
            for ws in sockets:
                await ws.close()
    finally:
        for ws in opened:
            await ws.close()
