"""The relay path costs no query per recipient: a group message to 3 or to 30 members runs alike."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups import actions as group_actions


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
        group_actions.send_message(actor=actor, body="hello everyone", group_id=group.pk)
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
    # 6, plus the stream's 5: its lock, the head, the topics' offsets, the entry and its topics.
    with django_assert_max_num_queries(11), django_capture_on_commit_callbacks(execute=True):
        group_actions.send_message(actor=alice, body="hi", to_id=bob.pk)
