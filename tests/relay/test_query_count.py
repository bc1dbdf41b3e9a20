"""The relay path costs no query per recipient: a group message to 3 or to 30 members runs alike."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups import actions as group_actions
from groups import messaging as group_messaging


@pytest.fixture
def group_of(make_user, alice):
    def make(size):
        group = group_actions.create_group(actor=alice, name=f"Group of {size}")
        for _ in range(size - 1):
            group_actions.join_group(actor=make_user(), group=group)
        return group

    return make


def queries_to_send(group, actor, capture):
    """Queries of `send_message`, its after-commit relay included."""
    with CaptureQueriesContext(connection) as queries, capture(execute=True) as callbacks:
        group_messaging.send_message(actor=actor, body="hello everyone", group_id=group.pk)
    assert callbacks, "the message scheduled no relay"
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db
def test_group_message_queries_do_not_grow_with_members(group_of, alice, django_capture_on_commit_callbacks):
    small, large = group_of(3), group_of(30)
    assert large.memberships.count() == 30
    few = queries_to_send(small, alice, django_capture_on_commit_callbacks)
    many = queries_to_send(large, alice, django_capture_on_commit_callbacks)
    assert len(few) == len(many), (few, many)


@pytest.mark.django_db
def test_direct_message_queries_are_constant(make_user, alice, django_assert_max_num_queries,
                                            django_capture_on_commit_callbacks):
    bob = make_user("bob")
    # 7 (one of them: who blocks or mutes the two, for the batch), plus the stream's 5 on SQLite: its
    # lock, the head, the topics' offsets, the entry and its topics (3 on PostgreSQL: the lock with the
    # message's id, the heads, the entry with its topics).
    with django_assert_max_num_queries(12), django_capture_on_commit_callbacks(execute=True):
        group_messaging.send_message(actor=alice, body="hi", to_id=bob.pk)


def queries_of_a_batch(requests):
    """Queries of what the socket writer runs for a batch of `sendmessage` frames
    (relay.writer: one transaction, really committed, so that the database backend numbers and
    stores the batch's entries in one pass right before COMMIT, as in production)."""
    from relay.stream import publish

    publish.take()  # the scene's own events
    with CaptureQueriesContext(connection) as queries:
        results = group_messaging.send_messages(requests)
    collected = publish.take()  # as relay.writer runs it: the sends are taken, not sent here
    assert all(not isinstance(r, Exception) for r in results), results
    assert len(collected) == len(requests), "each message schedules its one entry"
    return [q["sql"] for q in queries.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_the_socket_writers_queries_grow_with_neither_members_nor_messages(group_of, alice, make_user):
    """The path the bench drives: a batch of group and direct messages costs the same queries
    whether the groups have 3 or 300 members and whether the batch holds 2 messages or 60."""
    small, large = group_of(3), group_of(300)
    bob = make_user("bob")

    def batch(group, n):
        return [(alice, f"m{i}", group.pk, None) if i % 2 else (alice, f"m{i}", None, bob.pk) for i in range(n)]

    few_members = queries_of_a_batch(batch(small, 2))
    many_members = queries_of_a_batch(batch(large, 2))
    many_messages = queries_of_a_batch(batch(large, 60))
    # The rows and the stream's entries are written by one server-bound statement, which the
    # capture does not see (relay.stream.numbering._insert), whatever the batch's size.
    assert len(few_members) == len(many_members) == len(many_messages), (few_members, many_messages)
