"""A message's entry is found through the message's own row (its group, or its two users), not
through topic rows of its own (`relay.stream.topics.MessageIndex`): replays still give it to
exactly its audience, in order, page by page, and it keeps its place when the row is deleted."""

import orjson
import pytest

from accounts.models import User
from groups import actions as group_actions
from groups import messaging
from groups.models import Message
from posts import actions as post_actions
from relay.stream import read
from relay.stream.models import Entry, EntryTopic
from tests.conftest import group_with, say

pytestmark = pytest.mark.django_db(transaction=True)


def replayed(user, after, **options):
    """What `user` gets on resuming from `after`: [(type, text or id)], oldest first."""
    upto = read.head()[0]
    groups = list(user.memberships.values_list("group_id", flat=True))
    got, _ = read.replay(user.pk, groups, after, upto, **options)
    return [_seen(text) for _, text in got]


def _seen(text):
    frame = orjson.loads(text)
    return frame["type"], frame.get("message") or frame.get("id") or frame.get("kind") or frame.get("groupid")


def test_a_message_entry_has_no_topic_rows_and_reaches_exactly_its_audience(alice, bob, charlie):
    group = group_with(alice, bob)
    start = read.head()[0]
    in_group = say(alice, "to the group", group=group)
    direct = say(alice, "to bob alone", to=bob)
    entries = Entry.objects.filter(message_id__in=[in_group.pk, direct.pk])
    assert entries.count() == 2
    assert not EntryTopic.objects.filter(seq__in=entries.values("seq")).exists()

    assert replayed(bob, start) == [("sendmessage", "to the group"), ("sendmessage", "to bob alone")]
    assert replayed(alice, start) == [("sendmessage", "to the group"), ("sendmessage", "to bob alone")]
    assert replayed(charlie, start) == []


def test_a_direct_message_reaches_its_recipient_and_its_sender_only(alice, bob, charlie):
    start = read.head()[0]
    say(charlie, "charlie to alice", to=alice)
    say(alice, "alice to charlie", to=charlie)
    assert replayed(bob, start) == []
    assert replayed(alice, start) == [("sendmessage", "charlie to alice"), ("sendmessage", "alice to charlie")]


def test_a_deleted_message_keeps_its_place_in_the_replay(alice, bob):
    group = group_with(alice, bob)
    start = read.head()[0]
    gone = say(alice, "soon gone", group=group)
    gone_direct = say(alice, "soon gone too", to=bob)
    say(alice, "stays", group=group)
    messaging.delete_message(message=gone, by=alice)
    messaging.delete_message(message=gone_direct, by=alice)

    assert replayed(bob, start) == [
        ("sendmessage", "soon gone"), ("sendmessage", "soon gone too"), ("sendmessage", "stays"),
        ("deletemessage", gone.pk), ("deletemessage", gone_direct.pk)]


def test_a_deleted_group_or_user_leaves_what_was_sent_in_the_replay(alice, bob, charlie):
    group = group_with(alice, bob)
    start = read.head()[0]
    say(alice, "before the group went", group=group)
    say(charlie, "from charlie, before he went", to=bob)
    group_actions.delete_group(actor=alice, group=group)
    User.objects.filter(pk=charlie.pk).delete()
    assert not Message.objects.exists()

    seen = replayed(bob, start)
    assert seen[:2] == [("sendmessage", "before the group went"), ("sendmessage", "from charlie, before he went")]


def test_pages_of_one_two_and_three_give_the_same_replay_as_one_page(alice, bob):
    group = group_with(alice, bob)
    start = read.head()[0]
    post = post_actions.create_post(actor=alice, content="a post", group=group)
    for i in range(4):
        say(alice, f"group {i}", group=group)
        post_actions.like_post(actor=bob, post=post, liked=i % 2 == 0)
        say(alice, f"direct {i}", to=bob)
    whole = replayed(bob, start)
    assert len(whole) > 12
    upto = read.head()[0]
    groups = [group.pk]
    for limit in (1, 2, 3):
        paged, cursor = [], start
        while cursor < upto:
            got, cursor = read.replay(bob.pk, groups, cursor, upto, limit=limit)
            paged += [_seen(text) for _, text in got]
        assert paged == whole, limit
