"""Resume (`resume=<seq>`): every stateful event the user was entitled to when it happened,
oldest first, then live; the `connection` frame says where the socket starts."""

import time

import pytest

from accounts.actions import send_friend_request
from groups import actions as group_actions
from groups import messaging as group_messaging
from posts import actions as post_actions
from relay.stream import read
from tests.conftest import group_with
from tests.sockets import call, nothing, recv, send

pytestmark = pytest.mark.django_db(transaction=True)


def say(user, group, text):
    return group_messaging.send_message(actor=user, body=text, group_id=group.pk)


async def test_the_connection_frame_tells_where_the_socket_and_its_streams_start(connect, alice, bob):
    group = await call(group_with, alice, bob)
    await call(say, alice, group, "one")
    comm = await connect(bob)
    first = comm.first
    assert first["seq"] > 0
    # alice's join (creating it), bob's join (in his stream too), then "one".
    assert first["streams"] == {f"user:{bob.pk}": 1, f"group:{group.pk}": 3}
    await call(say, alice, group, "two")
    live = await recv(comm)
    assert live["seq"] > first["seq"] and live["streams"] == {f"group:{group.pk}": 4}


async def test_resume_replays_every_kind_as_it_was_entitled_then_goes_live(connect, alice, bob, charlie):
    shared, later = await call(group_with, alice, bob), await call(group_with, alice, charlie, name="later")
    post = await call(post_actions.create_post, actor=bob, content="mine", group=shared)
    comm = await connect(bob)
    position = comm.first["seq"]
    await comm.disconnect()

    await call(say, alice, shared, "while away")
    await call(post_actions.like_post, actor=alice, post=post)
    await call(say, alice, later, "before bob joined: not his")
    await call(group_actions.add_member, actor=alice, group=later, target=bob)
    await call(say, alice, later, "after bob joined")
    await call(send_friend_request, actor=charlie, target=bob)
    await call(group_actions.kick_member, actor=alice, group=shared, target=bob)
    await call(say, alice, shared, "after the kick: not his")

    comm = await connect(bob, resume=position)
    got = [await recv(comm) for _ in range(9)]
    await nothing(comm)
    seen = [(f["type"], f.get("kind") or f.get("message") or f.get("groupid")) for f in got]
    assert seen == [
        ("sendmessage", "while away"),
        ("notification", "like"), ("postlike", None),
        ("join", later.pk), ("sendmessage", "after bob joined"),
        ("friendrequest", None), ("notification", "friendrequest"),
        ("kick", shared.pk), ("notification", "kick"),
    ], seen
    assert [f["seq"] for f in got] == sorted({f["seq"] for f in got})  # oldest first, each once
    assert comm.first["groups"] == [later.pk]
    await call(say, alice, later, "live")
    assert (await recv(comm))["message"] == "live"
    await nothing(comm)


async def test_resuming_from_the_newest_position_replays_nothing(connect, alice, bob):
    group = await call(group_with, alice, bob)
    await call(say, alice, group, "seen")
    watcher = await connect(bob)
    await call(say, alice, group, "also seen")
    newest = (await recv(watcher))["seq"]
    comm = await connect(bob, resume=newest)
    await nothing(comm)


async def test_a_position_older_than_the_stream_keeps_gets_resync_then_live(connect, alice, bob):
    group = await call(group_with, alice, bob)
    await call(say, alice, group, "old")
    await call(read.trim, time.time() + 1)
    comm = await connect(bob, resume=0)
    resync = await recv(comm)
    assert resync["type"] == "resync" and resync["reason"] == "retention" and resync["seq"] == comm.first["seq"]
    await nothing(comm)
    await call(say, alice, group, "new")
    assert (await recv(comm))["message"] == "new"


@pytest.mark.parametrize("raw", ["abc", "-1", "1.5", "%C2%B2", "9" * 20])
async def test_an_invalid_resume_is_an_error_frame_and_the_socket_goes_live(connect, alice, bob, raw):
    group = await call(group_with, alice, bob)
    comm = await connect(bob, resume=raw)
    error = await recv(comm)
    assert error["type"] == "error" and error["code"] == "invalid_frame" and "resume" in error["details"]
    await send(comm, "ping", ref="p")
    assert (await recv(comm))["type"] == "pong"
    await call(say, alice, group, "live")
    assert (await recv(comm))["message"] == "live"
