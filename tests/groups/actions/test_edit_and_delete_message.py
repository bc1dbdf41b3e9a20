"""`groups.messaging.edit_message` and `remove_message` (issue 23, item 4): who may edit or delete
a message, what is kept for the moderators, and what is relayed to whom (`editmessage`,
`deletemessage` with `by`), whichever way it is asked for.

The REST endpoint is tested in tests/groups/api/test_message.py, the frames in
tests/relay/frames/test_editmessage.py and test_deletemessage.py, staff deletes and the
admin's revisions in tests/moderation/test_message_revisions.py.
"""

import pytest

from config.errors import Forbidden, ValidationFailed
from groups import actions, messaging
from groups.models import Message, MessageRevision
from tests.conftest import make_admin
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db


def test_the_author_edits_and_the_old_text_is_kept(public_group, bob, capture_events):
    message = messaging.send_message(actor=bob, body="helo", group_id=public_group.pk)
    with capture_events.capture():
        assert messaging.edit_message(actor=bob, message=message, body="  hello  ") is True
    message.refresh_from_db()
    assert message.body == "hello" and message.edited_at is not None
    (revision,) = MessageRevision.objects.all()
    assert (revision.message_id, revision.body, revision.kind, revision.by, revision.group_id) == (
        message.pk, "helo", "edited", bob, public_group.pk)
    (relayed,) = capture_events
    assert relayed["groups"] == [public_group.pk] and relayed["users"] == [] and relayed["channels"] == []
    event = relayed["event"]
    assert event["type"] == "editmessage" and event["id"] == message.pk and event["message"] == "hello"
    assert event["from"] == user_shape(bob) and event["groupid"] == public_group.pk
    assert event["edited_at"] and event["created_at"]


def test_a_direct_message_edit_reaches_both_users_only(alice, bob, capture_events):
    message = messaging.send_message(actor=alice, body="hi", to_id=bob.pk)
    with capture_events.capture():
        messaging.edit_message(actor=alice, message=message, body="hi there")
    (relayed,) = capture_events
    assert relayed["users"] == sorted([alice.pk, bob.pk]) and relayed["groups"] == []
    assert relayed["event"]["to"] == bob.pk


def test_the_same_text_changes_and_relays_nothing(public_group, bob, capture_events):
    message = messaging.send_message(actor=bob, body="same", group_id=public_group.pk)
    with capture_events.capture():
        assert messaging.edit_message(actor=bob, message=message, body="same ") is False
    assert capture_events == [] and not MessageRevision.objects.exists()


@pytest.mark.parametrize("body", ["", "   ", "x" * 4001])
def test_a_blank_or_long_text_is_refused(public_group, bob, body):
    message = messaging.send_message(actor=bob, body="fine", group_id=public_group.pk)
    with pytest.raises(ValidationFailed):
        messaging.edit_message(actor=bob, message=message, body=body)
    assert Message.objects.get(pk=message.pk).body == "fine"


def test_only_the_author_edits_even_the_owner_may_not(public_group, alice, bob):
    message = messaging.send_message(actor=bob, body="mine", group_id=public_group.pk)
    with pytest.raises(Forbidden):
        messaging.edit_message(actor=alice, message=message, body="theirs")
    assert Message.objects.get(pk=message.pk).body == "mine" and not MessageRevision.objects.exists()


def test_an_author_who_left_the_group_edits_no_more(public_group, bob):
    message = messaging.send_message(actor=bob, body="before", group_id=public_group.pk)
    actions.leave_group(actor=bob, group=public_group)
    with pytest.raises(Forbidden):
        messaging.edit_message(actor=bob, message=message, body="after")


def test_the_author_deletes_and_the_text_is_kept(public_group, bob, capture_events):
    message = messaging.send_message(actor=bob, body="oops", group_id=public_group.pk)
    with capture_events.capture():
        assert messaging.remove_message(actor=bob, message=message) is True
    assert not Message.objects.filter(pk=message.pk).exists()
    (revision,) = MessageRevision.objects.all()
    assert (revision.message_id, revision.body, revision.kind, revision.by) == (message.pk, "oops", "deleted", bob)
    (relayed,) = capture_events
    assert relayed["groups"] == [public_group.pk] and relayed["users"] == []
    assert relayed["event"] == {"identifier": "kirimin", "type": "deletemessage", "id": message.pk,
                                "groupid": public_group.pk, "by": user_shape(bob)}


def test_the_groups_owner_and_admins_delete_others_messages(public_group, alice, bob, charlie):
    actions.join_group(actor=charlie, group=public_group)
    first = messaging.send_message(actor=charlie, body="one", group_id=public_group.pk)
    second = messaging.send_message(actor=charlie, body="two", group_id=public_group.pk)
    assert messaging.remove_message(actor=alice, message=first) is True  # the owner
    make_admin(bob, public_group)
    assert messaging.remove_message(actor=bob, message=second) is True  # an admin
    assert [r.by for r in MessageRevision.objects.order_by("id")] == [alice, bob]


def test_a_member_may_not_delete_anothers_message(public_group, alice, bob):
    message = messaging.send_message(actor=alice, body="owner's", group_id=public_group.pk)
    with pytest.raises(Forbidden):
        messaging.remove_message(actor=bob, message=message)
    assert Message.objects.filter(pk=message.pk).exists()


def test_the_recipient_of_a_direct_message_may_not_delete_it(alice, bob, capture_events):
    message = messaging.send_message(actor=alice, body="hi", to_id=bob.pk)
    with pytest.raises(Forbidden):
        messaging.remove_message(actor=bob, message=message)
    with capture_events.capture():
        messaging.remove_message(actor=alice, message=message)
    (relayed,) = capture_events
    assert relayed["users"] == sorted([alice.pk, bob.pk])
    assert relayed["event"] == {"identifier": "kirimin", "type": "deletemessage", "id": message.pk,
                                "by": user_shape(alice)}


def test_deleting_twice_changes_nothing_the_second_time(public_group, bob):
    message = messaging.send_message(actor=bob, body="x", group_id=public_group.pk)
    assert messaging.remove_message(actor=bob, message=message) is True
    assert messaging.remove_message(actor=bob, message=message) is False
    assert MessageRevision.objects.count() == 1
