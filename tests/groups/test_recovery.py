"""Recovery with `since=` (SPEC §6 rule 7): replay every message after an id that the user was
entitled to when it was sent, oldest first, then live.

The race test sends messages while the socket connects and replays; whatever
the interleaving, every message after `since` must arrive exactly once.
"""

import asyncio
import random

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from groups.actions import leave_group
from groups.messaging import send_message, send_messages
from groups.models import Message
from tests.conftest import group_with, say
from tests.sockets import call, expect, nothing, recv, still_alive, user_shape

pytestmark = pytest.mark.django_db(transaction=True)


async def replayed(comm, count):
    """The next `count` frames, which must all be `sendmessage`."""
    frames = [await recv(comm, timeout=5) for _ in range(count)]
    assert all(f["type"] == "sendmessage" for f in frames), frames
    return frames


async def test_since_replays_every_visible_message_oldest_first_then_goes_live(connect, alice, bob, charlie):
    shared = await call(group_with, alice, bob, name="shared")
    alices_own = await call(group_with, alice, charlie, name="not bob's")
    left = await call(group_with, alice, bob, name="bob left")
    before = await call(say, alice, "old", group=shared)
    # Bob was a member when this one was sent: he was entitled to it then, so it is replayed.
    visible = [await call(say, bob, "old, in the group bob then left", group=left)]
    await call(leave_group, actor=bob, group=left)

    visible += [
        await call(say, alice, "group 1", group=shared),
        await call(say, alice, "direct to bob", to=bob),
    ]
    await call(say, alice, "a group bob is not in", group=alices_own)
    await call(say, charlie, "charlie to alice", to=alice)
    await call(say, alice, "a group bob left", group=left)
    visible += [
        await call(say, bob, "bob to charlie", to=charlie),
        await call(say, bob, "group 2", group=shared),
    ]

    comm = await connect(bob, since=before.pk)
    frames = await replayed(comm, len(visible))
    assert [f["id"] for f in frames] == [m.pk for m in visible]  # oldest first, nothing else
    assert [f["message"] for f in frames] == ["old, in the group bob then left", "group 1", "direct to bob",
                                              "bob to charlie", "group 2"]
    assert frames[1]["groupid"] == shared.pk and frames[1]["from"] == user_shape(alice)
    assert frames[2]["to"] == bob.pk and "groupid" not in frames[2]
    assert frames[3]["to"] == charlie.pk and frames[3]["from"] == user_shape(bob)
    await nothing(comm)

    live = await call(say, alice, "now live", group=shared)
    await expect(comm, "sendmessage", id=live.pk, message="now live")
    await nothing(comm)


async def test_replayed_frames_are_the_live_frames(connect, alice, bob):
    group = await call(group_with, alice, bob)
    first = await call(say, alice, "first", group=group)
    watcher = await connect(bob)
    msg = await call(say, alice, "the one", group=group)
    live = await expect(watcher, "sendmessage")

    comm = await connect(bob, since=first.pk)
    assert await expect(comm, "sendmessage") == live
    assert live["id"] == msg.pk
    await nothing(comm)


async def test_since_the_latest_message_replays_nothing(connect, alice, bob):
    group = await call(group_with, alice, bob)
    last = await call(say, alice, "latest", group=group)
    comm = await connect(bob, since=last.pk)
    await nothing(comm)
    await connect(bob, since=9_999_999_999_999_999_999)  # beyond any id: nothing, no crash
    await still_alive(comm)


async def test_since_zero_replays_the_whole_visible_history(connect, alice, bob):
    group = await call(group_with, alice, bob)
    sent = [await call(say, alice, f"m{i}", group=group) for i in range(3)]
    comm = await connect(bob, since=0)
    assert [f["id"] for f in await replayed(comm, 3)] == [m.pk for m in sent]
    await nothing(comm)


async def test_a_long_absence_is_replayed_in_full(connect, alice, bob):
    """More than one page of history (the replay reads in pages)."""
    group = await call(group_with, alice, bob)
    since = (await call(say, alice, "before", group=group)).pk
    await call(send_messages, [(alice, f"m{i}", group.pk, None) for i in range(1203)])
    expected = await call(lambda: list(Message.objects.filter(pk__gt=since).order_by("id").values_list("pk", flat=True)))

    comm = await connect(bob, since=since)
    assert [f["id"] for f in await replayed(comm, 1203)] == expected
    await nothing(comm)


@pytest.mark.parametrize("since", ["abc", "-1", "1.5", "1e3", "%C2%B2", "%EF%BC%91", "9" * 20, "0x10"])
async def test_an_invalid_since_is_an_error_frame_and_the_socket_stays_usable(connect, alice, bob, since):
    group = await call(group_with, alice, bob)
    await call(say, alice, "must not be replayed", group=group)
    comm = await connect(bob, since=since)
    frame = await expect(comm, "error", code="invalid_frame")
    assert "since" in frame["details"]
    await nothing(comm)  # no replay
    await still_alive(comm)
    msg = await call(say, alice, "live still works", group=group)
    await expect(comm, "sendmessage", id=msg.pk)


# --- the race ------------------------------------------------------------------------------------
def _sender(parallel):
    """`send_message` off the loop, its events sent from the loop as the relay's handlers send
    them: in the shared sync thread, or (PostgreSQL) in a thread pool of its own."""
    from relay.stream import publish

    def send_and_take(**kwargs):
        try:
            return send_message(**kwargs), publish.take()
        finally:
            if parallel:
                connection.close()  # pool threads must not keep the test database busy

    in_thread = sync_to_async(send_and_take, thread_sensitive=not parallel)

    async def send(**kwargs):
        message, sends = await in_thread(**kwargs)
        await publish.send(sends)
        return message

    return send


@pytest.fixture
def events_in_flight(monkeypatch):
    """Make every after-commit publish take a random 0-20 ms, as it does between processes over Redis.

    The writer does not wait for it, so a message can be committed (and read by a replay)
    while its live event is still on its way. `await events_in_flight()` waits for them all.
    """
    from relay.stream import publish

    real_publish, rng, tasks = publish.publish, random.Random(7), []

    async def later(entries):
        await asyncio.sleep(rng.uniform(0, 0.02))
        await real_publish(entries)

    async def publish_later(entries):
        tasks.append(asyncio.get_running_loop().create_task(later(entries)))
        return [None] * len(entries)

    monkeypatch.setattr(publish, "publish", publish_later)

    async def drain():
        await asyncio.gather(*tasks)

    return drain


@pytest.mark.parametrize("latency", [False, True], ids=["direct", "events-in-flight"])
async def test_messages_sent_while_connecting_with_since_arrive_exactly_once(request, connect, alice, bob,
                                                                             charlie, latency):
    """While bob reconnects with since=, three writers keep sending; no gap, no duplicate, five rounds."""
    in_flight = request.getfixturevalue("events_in_flight") if latency else None
    shared = await call(group_with, alice, bob, charlie, name="shared")
    hidden = await call(group_with, alice, charlie, name="not bob's")
    # SQLite's shared in-memory test database cannot take parallel writers; PostgreSQL can.
    send = _sender(parallel=connection.vendor == "postgresql")
    rng = random.Random(4)
    since = (await call(say, alice, "start", group=shared)).pk

    async def writer(actor, count, **target):
        ids = []
        for i in range(count):
            msg = await send(actor=actor, body=f"{actor.username} {i}", **target)
            ids.append(msg.pk)
            await asyncio.sleep(rng.uniform(0, 0.004))
        return ids

    for round_ in range(5):
        # Missed while offline, before the reconnect starts.
        offline = [(await call(say, charlie, f"offline {round_}", to=bob)).pk]
        writers = asyncio.gather(
            writer(alice, 12, group_id=shared.pk),
            writer(charlie, 9, to_id=bob.pk),
            writer(bob, 9, to_id=alice.pk),
            writer(alice, 5, group_id=hidden.pk),  # never bob's: neither replayed nor live
        )
        comm = await connect(bob, since=since)
        to_shared, to_bob, from_bob, elsewhere = await writers
        if in_flight:
            await in_flight()
        expected = sorted(offline + to_shared + to_bob + from_bob)
        assert len(expected) == 31

        got = [f["id"] for f in await replayed(comm, len(expected))]
        await nothing(comm, timeout=0.5)  # no duplicate, and nothing from the hidden group, comes after
        assert len(got) == len(set(got)), f"round {round_}: duplicates {sorted(got)}"
        assert got == sorted(got), f"round {round_}: out of order {got}"
        assert sorted(got) == expected, f"round {round_}: missing {sorted(set(expected) - set(got))}"
        assert not set(got) & set(elsewhere)
        await comm.disconnect()
        since = max(expected + elsewhere)
