"""`/api/messages/` (SPEC §3, §5): sending a direct message (POST) and a conversation (GET).

What a direct message relays, and to whom, is in tests/groups/actions/test_send_message.py; the
`sendmessage` frame in tests/relay/frames/test_sendmessage.py; group messages' endpoint in
tests/groups/api/test_group_messages.py; the conversation list in
tests/groups/api/test_conversations.py.
"""

import pytest

from groups.models import Message
from tests.conftest import err, ok, say, texts
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db

DIRECT = "/api/messages/"


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
