"""`PATCH` and `DELETE /api/messages/{id}/` (issue 23, item 4): the author edits, the author or
the group's owner or admins delete; what others get is a 404 when they cannot read the message,
a 403 when they can. The rules and the audiences are in
tests/groups/actions/test_edit_and_delete_message.py.
"""

import pytest

from groups import messaging
from groups.models import Message
from tests.conftest import err, group_with, ok
from tests.sockets import call, expect, nothing, rest

pytestmark = pytest.mark.django_db


def url(message):
    return f"/api/messages/{message.pk}/"


def test_the_author_edits_and_gets_the_message_back(api, public_group, bob):
    message = messaging.send_message(actor=bob, body="helo", group_id=public_group.pk)
    data = ok(api(bob).patch(url(message), {"message": "hello"}, format="json"))
    assert data["id"] == message.pk and data["message"] == "hello" and data["edited_at"]
    assert data["groupid"] == public_group.pk
    history = ok(api(bob).get(f"/api/groups/{public_group.pk}/messages/"))["results"]
    assert history[0]["message"] == "hello" and history[0]["edited_at"] == data["edited_at"]


def test_an_unedited_message_has_no_edited_at(api, public_group, bob):
    messaging.send_message(actor=bob, body="plain", group_id=public_group.pk)
    (row,) = ok(api(bob).get(f"/api/groups/{public_group.pk}/messages/"))["results"]
    assert "edited_at" not in row


def test_others_get_403_when_they_see_it_and_404_when_they_do_not(api, private_group, alice, bob, charlie):
    message = messaging.send_message(actor=bob, body="secret", group_id=private_group.pk)
    err(api(alice).patch(url(message), {"message": "x"}, format="json"), 403, "forbidden")
    err(api(charlie).patch(url(message), {"message": "x"}, format="json"), 404, "not_found")
    err(api(charlie).delete(url(message)), 404, "not_found")
    err(api(bob).patch("/api/messages/999999/", {"message": "x"}, format="json"), 404, "not_found")
    assert Message.objects.get(pk=message.pk).body == "secret"


def test_bad_input_is_a_400_that_changes_nothing(api, public_group, bob, anon):
    message = messaging.send_message(actor=bob, body="keep", group_id=public_group.pk)
    err(api(bob).patch(url(message), {"message": ""}, format="json"), 400, "validation_error")
    err(api(bob).patch(url(message), {"message": 5}, format="json"), 400, "validation_error")
    err(api(bob).patch(url(message), {}, format="json"), 400, "validation_error")
    err(anon.patch(url(message), {"message": "x"}, format="json"), 401, "not_authenticated")
    assert Message.objects.get(pk=message.pk).body == "keep"


def test_the_author_deletes_then_it_is_gone(api, public_group, bob):
    message = messaging.send_message(actor=bob, body="bye", group_id=public_group.pk)
    assert ok(api(bob).delete(url(message))) is None
    err(api(bob).delete(url(message)), 404, "not_found")
    assert ok(api(bob).get(f"/api/groups/{public_group.pk}/messages/"))["results"] == []


def test_the_owner_deletes_a_members_message_a_member_may_not_delete_the_owners(api, public_group, alice, bob):
    owners = messaging.send_message(actor=alice, body="rules", group_id=public_group.pk)
    members = messaging.send_message(actor=bob, body="spam", group_id=public_group.pk)
    err(api(bob).delete(url(owners)), 403, "forbidden")
    ok(api(alice).delete(url(members)))
    assert list(Message.objects.values_list("body", flat=True)) == ["rules"]


def test_the_recipient_of_a_direct_message_may_not_edit_or_delete_it(api, alice, bob):
    message = messaging.send_message(actor=alice, body="hi", to_id=bob.pk)
    err(api(bob).patch(url(message), {"message": "changed"}, format="json"), 403, "forbidden")
    err(api(bob).delete(url(message)), 403, "forbidden")


@pytest.mark.django_db(transaction=True)
async def test_an_edit_and_a_delete_reach_the_members_sockets_live(aapi, connect, alice, bob, charlie):
    group = await call(group_with, alice, bob)
    message = await call(messaging.send_message, actor=bob, body="first", group_id=group.pk)
    owner, author, outsider = await connect(alice), await connect(bob), await connect(charlie)
    client = await aapi(bob)

    ok(await rest(client, "patch", url(message), {"message": "second"}))
    for comm in (owner, author):
        await expect(comm, "editmessage", id=message.pk, message="second", groupid=group.pk)
    ok(await rest(client, "delete", url(message)))
    for comm in (owner, author):
        frame = await expect(comm, "deletemessage", id=message.pk, groupid=group.pk)
        assert frame["by"]["id"] == bob.pk
    await nothing(owner, author, outsider)
