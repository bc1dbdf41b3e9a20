"""REST for messages (SPEC §3, §5): group history and sending, direct conversations and sending."""

import pytest

from groups.actions import send_message
from groups.models import Message
from tests.conftest import err, group_with, ok
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db

DIRECT = "/api/messages/"


def messages_url(group):
    return f"/api/groups/{group.pk}/messages/"


def texts(data):
    return [m["message"] for m in data["results"]]


def say(user, text, group=None, to=None):
    return send_message(actor=user, body=text, group_id=group.pk if group else None, to_id=to.pk if to else None)


# --- group messages: sending ---------------------------------------------------------------------
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


# --- group messages: history ----------------------------------------------------------------------
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


# --- direct messages: sending -------------------------------------------------------------------
def test_a_direct_message_is_stored_and_returned(api, alice, bob):
    data = ok(api(alice).post(DIRECT, {"to": bob.pk, "message": " hi bob "}, format="json"), 201)

    msg = Message.objects.get()
    assert msg.sender == alice and msg.recipient == bob and msg.group is None and msg.body == "hi bob"
    assert data == {"id": msg.pk, "from": user_shape(alice), "to": bob.pk, "message": "hi bob",
                    "created_at": data["created_at"]}


def test_to_may_be_a_numeric_string(api, alice, bob):
    assert ok(api(alice).post(DIRECT, {"to": str(bob.pk), "message": "hi"}, format="json"), 201)["to"] == bob.pk


def test_a_direct_message_to_an_unknown_or_inactive_user_is_not_found(api, alice, make_user):
    gone = make_user("gone", is_active=False)
    err(api(alice).post(DIRECT, {"to": 999_999, "message": "hi"}, format="json"), 404, "not_found")
    err(api(alice).post(DIRECT, {"to": gone.pk, "message": "hi"}, format="json"), 404, "not_found")
    assert not Message.objects.exists()


@pytest.mark.parametrize("body, field", [
    ({"message": "hi"}, "to"), ({"to": None, "message": "hi"}, "to"), ({"to": "bob", "message": "hi"}, "to"),
    ({"to": 0, "message": "hi"}, "to"), ({"to": True, "message": "hi"}, "to"), ({"to": [2], "message": "hi"}, "to"),
    ({"to": "9" * 30, "message": "hi"}, "to"),
    ({"to": "{bob}"}, "message"), ({"to": "{bob}", "message": "  "}, "message"),
    ({"to": "{bob}", "message": "x" * 4001}, "message"), ({"to": "{bob}", "message": ["hi"]}, "message"),
])
def test_an_invalid_direct_message_is_a_400_and_stores_nothing(api, alice, bob, body, field):
    body = {k: (bob.pk if v == "{bob}" else v) for k, v in body.items()}
    response = err(api(alice).post(DIRECT, body, format="json"), 400, "validation_error")
    assert field in response["details"]
    assert not Message.objects.exists()


# --- direct messages: the conversation -----------------------------------------------------------
def test_the_conversation_has_both_directions_and_nothing_else(api, alice, bob, charlie, public_group):
    say(alice, "a->b 1", to=bob)
    say(bob, "b->a", to=alice)
    say(alice, "a->c", to=charlie)
    say(charlie, "c->b", to=bob)
    say(alice, "group", group=public_group)
    say(alice, "a->b 2", to=bob)

    for viewer, other in ((alice, bob), (bob, alice)):
        data = ok(api(viewer).get(DIRECT, {"with": other.pk}))
        assert texts(data) == ["a->b 2", "b->a", "a->b 1"]
        assert {(m["from"]["id"], m["to"]) for m in data["results"]} == {(alice.pk, bob.pk), (bob.pk, alice.pk)}
    assert texts(ok(api(charlie).get(DIRECT, {"with": alice.pk}))) == ["a->c"]
    assert texts(ok(api(charlie).get(DIRECT, {"with": str(bob.pk)}))) == ["c->b"]


def test_a_conversation_with_nobody_is_empty(api, alice):
    assert ok(api(alice).get(DIRECT, {"with": 999_999}))["results"] == []


def test_before_pages_back_through_a_conversation(api, alice, bob):
    sent = [say(alice if i % 2 else bob, f"d{i}", to=bob if i % 2 else alice) for i in range(5)]
    assert texts(ok(api(alice).get(DIRECT, {"with": bob.pk, "before": sent[3].pk}))) == ["d2", "d1", "d0"]
    page = ok(api(bob).get(DIRECT, {"with": alice.pk, "limit": 2}))
    assert texts(page) == ["d4", "d3"]
    assert texts(ok(api(bob).get(page["next"]))) == ["d2", "d1"]


@pytest.mark.parametrize("query", ["", "?with=", "?with=abc", "?with=0", "?with=-2", "?with=%C2%B2",
                                   f"?with={'9' * 30}", "?with=1&before=x"])
def test_a_missing_or_invalid_with_is_a_validation_error(api, alice, query):
    response = err(api(alice).get(DIRECT + query), 400, "validation_error")
    assert set(response["details"]) & {"with", "before"}


def test_direct_messages_only_accept_get_and_post(api, alice):
    for method in ("put", "patch", "delete"):
        err(getattr(api(alice), method)(DIRECT, {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize("method", ["get", "post"])
def test_direct_messages_need_a_signed_in_user(anon, bob, method):
    err(getattr(anon, method)(f"{DIRECT}?with={bob.pk}", {"to": bob.pk, "message": "hi"}, format="json"), 401,
        "not_authenticated")
    assert not Message.objects.exists()
