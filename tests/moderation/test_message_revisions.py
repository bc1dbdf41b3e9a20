"""What an edit or a delete cannot erase (issue 23, item 4): every earlier text of a message is
kept (`MessageRevision`) and shown to moderators on the desk; and staff delete anyone's message
through the desk, by REST or by the `deletemessage` frame, audited like the desk's own verb.
"""

import pytest
from django.urls import reverse

from groups import messaging
from groups.models import Message, MessageRevision
from moderation.models import ModerationLog
from tests.conftest import err, group_with, ok
from tests.sockets import call, expect, send

pytestmark = pytest.mark.django_db


def test_moderators_see_every_earlier_text_even_of_a_deleted_message(desk, alice, bob):
    group = group_with(alice, bob)
    message = messaging.send_message(actor=bob, body="you are an idiot", group_id=group.pk)
    messaging.edit_message(actor=bob, message=message, body="you are nice")
    messaging.remove_message(actor=bob, message=message)
    page = desk.get(reverse("admin:groups_messagerevision_changelist")).content.decode()
    assert "you are an idiot" in page and "you are nice" in page
    assert list(MessageRevision.objects.values_list("kind", "body")) == [
        ("edited", "you are an idiot"), ("deleted", "you are nice")]
    found = desk.get(reverse("admin:groups_messagerevision_changelist"), {"q": str(message.pk)}).content.decode()
    assert "you are an idiot" in found


def test_revisions_are_read_only_and_hidden_from_staff_without_the_permission(desk, make_user, alice, bob):
    message = messaging.send_message(actor=alice, body="first", to_id=bob.pk)
    messaging.edit_message(actor=alice, message=message, body="second")
    revision = MessageRevision.objects.get()
    assert desk.get(reverse("admin:groups_messagerevision_change", args=[revision.pk])).status_code == 200
    assert desk.get(reverse("admin:groups_messagerevision_delete", args=[revision.pk])).status_code == 403
    plain = make_user("staffer", is_staff=True)
    desk.force_login(plain)
    assert desk.get(reverse("admin:groups_messagerevision_changelist")).status_code == 403


def test_staff_delete_anyones_message_by_rest_through_the_desk(api, moderator, alice, bob):
    message = messaging.send_message(actor=alice, body="threat", to_id=bob.pk)
    ok(api(moderator).delete(f"/api/messages/{message.pk}/", {"reason": "Threats."}, format="json"))
    assert not Message.objects.exists()
    entry = ModerationLog.objects.get()
    assert (entry.action, entry.target_id, entry.reason) == ("delete_message", message.pk, "Threats.")
    assert MessageRevision.objects.get().by == moderator


def test_staff_without_the_permission_may_not(api, make_user, alice, bob):
    message = messaging.send_message(actor=alice, body="hi", to_id=bob.pk)
    err(api(make_user("staffer", is_staff=True)).delete(f"/api/messages/{message.pk}/"), 403, "forbidden")
    assert Message.objects.exists() and not ModerationLog.objects.exists()


@pytest.mark.django_db(transaction=True)
async def test_a_moderator_deletes_by_frame_through_the_desk(connect, moderator, alice, bob):
    message = await call(messaging.send_message, actor=alice, body="threat", to_id=bob.pk)
    desk_socket, recipient = await connect(moderator), await connect(bob)
    await send(desk_socket, "deletemessage", id=message.pk, ref="s")
    await expect(desk_socket, "ack", ref="s", id=message.pk, changed=True)
    frame = await expect(recipient, "deletemessage", id=message.pk)
    assert frame["by"]["id"] == moderator.pk
    entry = await ModerationLog.objects.aget()
    assert (entry.action, entry.target_id) == ("delete_message", message.pk)
