"""`/api/groups/{id}/messages/` (SPEC §3, §5): sending to a group (POST) and its history (GET).

What a group message relays, and to whom, is in tests/groups/actions/test_send_message.py; the
`sendmessage` frame in tests/relay/frames/test_sendmessage.py; direct messages' endpoint in
tests/groups/api/test_direct_messages.py.
"""

import pytest

from groups.models import Message
from tests.conftest import err, group_with, ok, say, texts
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db


def messages_url(group):
    return f"/api/groups/{group.pk}/messages/"


def test_a_member_sends_a_group_message(api, bob, public_group):
    data = ok(api(bob).post(messages_url(public_group), {"message": "  hello all  "}, format="json"), 201)

    msg = Message.objects.get()
    assert msg.sender == bob and msg.group == public_group and msg.recipient is None and msg.body == "hello all"
    assert data == {"id": msg.pk, "from": user_shape(bob), "groupid": public_group.pk, "message": "hello all",
                    "created_at": data["created_at"]}
    assert data["created_at"].endswith("Z")


def test_a_member_sends_to_a_private_group(api, bob, private_group):
    ok(api(bob).post(messages_url(private_group), {"message": "psst"}, format="json"), 201)
    assert Message.objects.get().group == private_group


def test_a_non_member_cannot_send_to_a_public_group(api, charlie, public_group):
    err(api(charlie).post(messages_url(public_group), {"message": "let me in"}, format="json"), 403, "forbidden")
    assert not Message.objects.exists()


def test_sending_to_a_private_group_one_is_not_in_is_not_found(api, charlie, private_group):
    err(api(charlie).post(messages_url(private_group), {"message": "hi"}, format="json"), 404, "not_found")
    err(api(charlie).post("/api/groups/999999/messages/", {"message": "hi"}, format="json"), 404, "not_found")
    assert not Message.objects.exists()


def test_a_member_who_left_can_no_longer_send(api, bob, public_group):
    ok(api(bob).post(f"/api/groups/{public_group.pk}/leave/"))
    err(api(bob).post(messages_url(public_group), {"message": "still here?"}, format="json"), 403, "forbidden")
    assert not Message.objects.exists()


@pytest.mark.parametrize("body", [
    {}, {"message": ""}, {"message": "   "}, {"message": "\n\t \n"}, {"message": "x" * 4001},
    {"message": " " + "x" * 4001 + " "}, {"message": None}, {"message": ["hi"]}, {"message": {"text": "hi"}},
    {"message": "nul\x00byte"},
])
def test_an_invalid_group_message_is_a_400_and_stores_nothing(api, bob, public_group, body):
    response = err(api(bob).post(messages_url(public_group), body, format="json"), 400, "validation_error")
    assert "message" in response["details"]
    assert not Message.objects.exists()


def test_a_message_of_4000_characters_after_stripping_is_accepted(api, bob, public_group):
    data = ok(api(bob).post(messages_url(public_group), {"message": "  " + "x" * 4000 + "\n"}, format="json"), 201)
    assert len(data["message"]) == 4000 and len(Message.objects.get().body) == 4000


def test_members_read_the_history_newest_first(api, alice, bob, public_group):
    other = group_with(alice, bob, name="other")
    for text in ("one", "two", "three"):
        say(alice, text, group=public_group)
    say(bob, "elsewhere", group=other)
    say(alice, "direct", to=bob)

    data = ok(api(bob).get(messages_url(public_group)))
    assert texts(data) == ["three", "two", "one"]
    assert all(m["groupid"] == public_group.pk and "to" not in m for m in data["results"])
    assert data["results"][0]["from"] == user_shape(alice)


def test_before_pages_back_through_the_history(api, alice, public_group):
    sent = [say(alice, f"m{i}", group=public_group) for i in range(6)]

    assert texts(ok(api(alice).get(messages_url(public_group), {"before": sent[4].pk}))) == ["m3", "m2", "m1",
                                                                                              "m0"]
    page = ok(api(alice).get(messages_url(public_group), {"before": str(sent[4].pk), "limit": 2}))
    assert texts(page) == ["m3", "m2"] and page["next"]
    assert texts(ok(api(alice).get(page["next"]))) == ["m1", "m0"]
    assert texts(ok(api(alice).get(messages_url(public_group), {"before": sent[0].pk}))) == []


@pytest.mark.parametrize("before", ["abc", "0", "-1", "1.5", "%C2%B2", "9" * 30])
def test_a_bad_before_is_a_validation_error(api, alice, public_group, before):
    response = err(api(alice).get(f"{messages_url(public_group)}?before={before}"), 400, "validation_error")
    assert "before" in response["details"]


def test_non_members_cannot_read_the_history(api, alice, charlie, public_group, private_group):
    say(alice, "members only", group=public_group)
    err(api(charlie).get(messages_url(public_group)), 403, "forbidden")
    err(api(charlie).get(messages_url(private_group)), 404, "not_found")


def test_group_messages_only_accept_get_and_post(api, alice, public_group):
    for method in ("put", "patch", "delete"):
        err(getattr(api(alice), method)(messages_url(public_group), {}, format="json"), 405, "method_not_allowed")
