"""`/api/friends/requests/` (SPEC §5): asking someone to be friends (POST), and the pending
requests, incoming and outgoing (GET).

Answers have their own file (tests/groups/api/test_friend_answers.py), so has the friend list
(tests/groups/api/test_friends.py); what a request relays is in
tests/groups/actions/test_send_friend_request.py; that every friend endpoint needs a
signed-in user is checked once, in tests/groups/test_friends_api.py.
"""

import pytest

from accounts.models import FriendRequest, Notification
from tests.conftest import REQUESTS, answer, ask, err, ok
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db


def test_a_friend_request_is_stored_pending(api, alice, bob):
    data = ok(api(alice).post(REQUESTS, {"to": str(bob.pk)}, format="json"), 201)
    request = FriendRequest.objects.get()
    assert data["id"] == request.pk and request.from_user == alice and request.to_user == bob
    assert data["status"] == "pending" and data["from"] == user_shape(alice) and data["to"] == user_shape(bob)
    note = Notification.objects.get(user=bob)
    assert note.kind == "friendrequest" and note.data == {"requestid": request.pk, "from": alice.pk}


def test_asking_again_while_pending_changes_nothing(api, alice, bob, pending):
    data = ok(ask(api(alice), bob), 200)
    assert data["id"] == pending and data["status"] == "pending"
    assert FriendRequest.objects.count() == 1 and Notification.objects.count() == 1


def test_asking_someone_who_already_asked_you_is_a_conflict(api, bob, alice, pending):
    err(ask(api(bob), alice), 409, "request_pending")
    assert FriendRequest.objects.count() == 1 and not Notification.objects.filter(user=alice).exists()


def test_asking_a_friend_is_a_conflict(api, alice, bob, pending):
    ok(api(bob).post(answer(pending, "accept")))
    err(ask(api(alice), bob), 409, "already_friends")
    err(ask(api(bob), alice), 409, "already_friends")


def test_asking_again_after_a_decline_asks_again(api, alice, bob, pending):
    ok(api(bob).post(answer(pending, "decline")))
    data = ok(ask(api(alice), bob), 201)
    assert data["id"] == pending and data["status"] == "pending"
    # Asked again, but notified once a day at most (the `friendrequest` frame still goes out).
    assert Notification.objects.filter(user=bob, kind="friendrequest").count() == 1


def test_befriending_yourself_is_a_validation_error(api, alice):
    body = err(ask(api(alice), alice), 400, "validation_error")
    assert "to" in body["details"]
    assert not FriendRequest.objects.exists()


def test_asking_an_unknown_or_inactive_user_is_not_found(api, alice, make_user):
    gone = make_user("gone", is_active=False)
    err(api(alice).post(REQUESTS, {"to": 999_999}, format="json"), 404, "not_found")
    err(ask(api(alice), gone), 404, "not_found")
    assert not FriendRequest.objects.exists()


@pytest.mark.parametrize("body", [{}, {"to": None}, {"to": "bob"}, {"to": 0}, {"to": True}, {"to": [2]},
                                  {"to": "9" * 30}])
def test_an_invalid_request_is_a_validation_error(api, alice, body):
    assert "to" in err(api(alice).post(REQUESTS, body, format="json"), 400, "validation_error")["details"]
    assert not FriendRequest.objects.exists()


def test_pending_requests_are_listed_incoming_and_outgoing(api, alice, bob, charlie, pending):
    ok(ask(api(charlie), bob), 201)
    incoming = ok(api(bob).get(REQUESTS))["results"]
    assert sorted(r["from"]["username"] for r in incoming) == ["alice", "charlie"]
    assert [r["id"] for r in ok(api(alice).get(REQUESTS, {"direction": "outgoing"}))["results"]] == [pending]
    assert ok(api(alice).get(REQUESTS, {"direction": "incoming"}))["results"] == []
    err(api(alice).get(REQUESTS, {"direction": "sideways"}), 400, "validation_error")


def test_asking_again_and_again_after_declines_notifies_once_a_day(api, alice, bob, pending):
    for _ in range(3):
        ok(api(bob).post(answer(pending, "decline")))
        ok(ask(api(alice), bob), 201)
    assert Notification.objects.filter(user=bob, kind="friendrequest").count() == 1
