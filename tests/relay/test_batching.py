"""Busy sockets: `sendmessage` frames are pipelined and stored in batches (relay.writer).

A socket may send its next frames before the first is answered. Each one is still
checked on its own, stored in the order sent, relayed in that order and answered
in that order, and a later frame with other effects never overtakes it.
"""

import functools
import json
import time

import pytest
from django.db import DatabaseError, transaction

from groups import messaging
from groups.models import Message
from relay.stream import numbering, publish
from relay.stream.models import Entry as StreamEntry
from tests.conftest import group_with
from tests.sockets import call, recv, send

pytestmark = pytest.mark.django_db(transaction=True)


async def answers(ws, n, timeout=5):
    """The next `n` ack/error frames, in the order they came (events skipped)."""
    got = []
    while len(got) < n:
        frame = await recv(ws, timeout)
        if frame["type"] in ("ack", "error"):
            got.append(frame)
    return got


async def events_of(ws, n, timeout=5):
    got = []
    while len(got) < n:
        frame = await recv(ws, timeout)
        if frame["type"] == "sendmessage":
            got.append(frame)
    return got


async def test_a_burst_of_frames_is_answered_in_order_each_checked_on_its_own(connect, alice, bob, charlie):
    club = await call(group_with, alice, bob, name="club")
    closed = await call(group_with, charlie, private=True)
    elsewhere = await call(group_with, charlie, name="elsewhere")
    a, b = await connect(alice), await connect(bob)
    plan = []
    for i in range(40):
        if i == 7:
            plan.append(({"groupid": closed.pk}, "not_found"))  # private, not hers: hidden
        elif i == 13:
            plan.append(({"groupid": elsewhere.pk}, "forbidden"))  # public, but she is not a member
        elif i == 21:
            plan.append(({"to": 999_999}, "not_found"))
        elif i % 2:
            plan.append(({"to": bob.pk}, None))
        else:
            plan.append(({"groupid": club.pk}, None))
    for i, (target, _) in enumerate(plan):  # all sent before any answer is read
        await send(a, "sendmessage", message=f"m{i}", ref=f"r{i}", **target)

    got = await answers(a, len(plan))
    assert [f["ref"] for f in got] == [f"r{i}" for i in range(len(plan))]
    for frame, (_, error) in zip(got, plan, strict=True):
        assert frame["type"] == ("error" if error else "ack"), frame
        if error:
            assert frame["code"] == error
    ids = [f["id"] for f in got if f["type"] == "ack"]
    assert ids == sorted(ids) and len(set(ids)) == len(ids) == 37

    stored = [m async for m in Message.objects.filter(sender=alice).order_by("id")]
    assert [m.pk for m in stored] == ids
    assert [m.body for m in stored] == [f"m{i}" for i, (_, e) in enumerate(plan) if e is None]
    # bob sees every message he may see (group and direct), once, in the order sent.
    seen = await events_of(b, 37)
    assert [e["id"] for e in seen] == ids


async def test_a_frame_with_other_effects_waits_for_the_messages_before_it(connect, alice, bob, monkeypatch):
    real = messaging.send_messages

    def slow(requests):  # a slow database: the `leave` would be done long before
        time.sleep(0.3)
        return real(requests)

    monkeypatch.setattr(messaging, "send_messages", slow)
    club = await call(group_with, bob, alice, name="club")
    a = await connect(alice)
    await send(a, "sendmessage", groupid=club.pk, message="last words", ref="m")
    await send(a, "leave", groupid=club.pk, ref="l")
    first, second = await answers(a, 2)
    assert first["type"] == "ack" and first["ref"] == "m", first  # not "forbidden": it was still a member
    assert second["type"] == "ack" and second["ref"] == "l" and second["changed"] is True
    assert await Message.objects.filter(pk=first["id"], body="last words", group=club).aexists()


async def test_when_a_batch_fails_as_a_whole_each_message_is_stored_on_its_own(connect, alice, bob,
                                                                            monkeypatch):
    real = messaging.send_messages
    batches = []

    def flaky(requests):
        batches.append(len(requests))
        if len(requests) > 1:
            raise DatabaseError("deadlock detected")
        return real(requests)

    monkeypatch.setattr(messaging, "send_messages", flaky)
    a, b = await connect(alice), await connect(bob)
    for i in range(10):
        await send(a, "sendmessage", to=bob.pk, message=f"n{i}", ref=f"r{i}")
    got = await answers(a, 10)
    assert [f["type"] for f in got] == ["ack"] * 10 and [f["ref"] for f in got] == [f"r{i}" for i in range(10)]
    assert max(batches) > 1, batches  # the burst was batched at least once (and fell back)
    assert [e["message"] for e in await events_of(b, 10)] == [f"n{i}" for i in range(10)]


async def test_a_message_refused_by_the_database_is_a_server_error_and_the_others_still_go(
        connect, alice, bob, monkeypatch):
    real = messaging.send_messages

    def refuses_poison(requests):
        if any(body == "poison" for _, body, _, _ in requests):
            raise DatabaseError("value too long")
        return real(requests)

    monkeypatch.setattr(messaging, "send_messages", refuses_poison)
    a = await connect(alice)
    for body in ("before", "poison", "after"):
        await send(a, "sendmessage", to=bob.pk, message=body, ref=body)
    got = await answers(a, 3)
    assert [(f["type"], f["ref"]) for f in got] == [("ack", "before"), ("error", "poison"), ("ack", "after")]
    assert got[1]["code"] == "server_error" and "too long" not in str(got[1])
    assert [m.body async for m in Message.objects.order_by("id")] == ["before", "after"]


# --- the domain action ---------------------------------------------------------------------------
def test_send_messages_checks_each_request_and_stores_the_rest_in_order(alice, bob, charlie, django_user_model):
    club = group_with(alice, bob, name="club")
    closed = group_with(charlie, private=True)
    elsewhere = group_with(charlie, name="elsewhere")
    gone = django_user_model.objects.create_user(username="gone", is_active=False)
    results = messaging.send_messages([
        (alice, " hello ", club.pk, None),
        (bob, "hi", None, alice.pk),
        (alice, "x", closed.pk, None),
        (alice, "x", elsewhere.pk, None),
        (alice, "x", None, gone.pk),
        (alice, "   ", None, bob.pk),
        (charlie, "mine", closed.pk, None),
    ])
    kinds = [r.code if isinstance(r, Exception) else "stored" for r in results]
    assert kinds == ["stored", "stored", "not_found", "forbidden", "not_found", "validation_error", "stored"]
    stored = [r for r in results if isinstance(r, Message)]
    assert [m.pk for m in stored] == sorted(m.pk for m in stored)
    assert [(m.body, m.group_id, m.recipient_id) for m in Message.objects.order_by("id")] == [
        ("hello", club.pk, None), ("hi", None, alice.pk), ("mine", closed.pk, None)]
    assert all(m.created_at is not None for m in Message.objects.all())


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("size", [3, 200])
def test_a_batch_is_stored_with_its_stream_entries_in_the_order_sent(alice, bob, size):
    club = group_with(alice, bob, name="club")
    results = messaging.send_messages([(alice if i % 2 else bob, f"m{i}", club.pk, None) for i in range(size)])
    assert [m.body for m in results] == [f"m{i}" for i in range(size)]
    assert [m.pk for m in results] == sorted(m.pk for m in results)
    stored = list(Message.objects.order_by("id").values_list("id", "body", "sender_id"))
    assert stored == [(m.pk, m.body, m.sender_id) for m in results]
    entries = list(StreamEntry.objects.filter(message_id__isnull=False).order_by("seq").values_list("message_id", "text"))
    assert [message_id for message_id, _ in entries] == [m.pk for m in results]
    offsets = [json.loads(text)["streams"][f"group:{club.pk}"] for _, text in entries]
    assert offsets == list(range(offsets[0], offsets[0] + size))


def _note(user, n):
    """A notification entry for `user`, told apart by `n`."""
    publish.notify_users([user.pk], {"identifier": "kirimin", "type": "notification", "n": n})


def _notes_stored():
    """The notification frames the stream holds, in stream order."""
    texts = [json.loads(text) for text in StreamEntry.objects.order_by("seq").values_list("text", flat=True)]
    return [t for t in texts if t["type"] == "notification"]


@pytest.mark.django_db(transaction=True)
def test_entries_queued_around_a_batchs_messages_keep_the_order_they_were_queued_in(alice, bob):
    """On PostgreSQL the messages' statement also takes the positions of the entries queued
    before it (relay.stream.numbering._reserve); one queued in a savepoint, and every one after
    it, is numbered at commit. Whatever took which position when, the stream holds them in the
    order queued, each stream's offsets with no hole."""
    club = group_with(alice, bob, name="club")
    publish.take()
    note = functools.partial(_note, alice)
    with transaction.atomic():
        note(1)
        with transaction.atomic():
            note(2)
        with pytest.raises(RuntimeError), transaction.atomic():
            note("rolled back")
            raise RuntimeError
        message = Message(sender=alice, group=club, body="hi")
        numbering.insert_in_order([message])
        note(3)
    publish.take()
    notes = _notes_stored()
    assert [t["n"] for t in notes] == [1, 2, 3]
    seqs = [t["seq"] for t in notes]
    assert seqs == list(range(seqs[0], seqs[0] + 3))
    offsets = [t["streams"][f"user:{alice.pk}"] for t in notes]
    assert offsets == list(range(offsets[0], offsets[0] + 3))
    assert message.pk is not None and Message.objects.get(pk=message.pk).body == "hi"


@pytest.mark.django_db(transaction=True)
def test_messages_written_in_a_savepoint_that_rolls_back_leave_the_stream_whole(alice, bob):
    """The positions taken by a statement in a savepoint go when it rolls back: none of the
    entries queued before it may keep them."""
    club = group_with(alice, bob, name="club")
    publish.take()
    note = functools.partial(_note, alice)
    with transaction.atomic():
        note(1)
        with pytest.raises(RuntimeError), transaction.atomic():
            note("rolled back")
            numbering.insert_in_order([Message(sender=alice, group=club, body="gone")])
            raise RuntimeError
        note(2)
    publish.take()
    notes = _notes_stored()
    assert [t["n"] for t in notes] == [1, 2]
    assert notes[1]["seq"] == notes[0]["seq"] + 1
    assert not Message.objects.filter(body="gone").exists()
