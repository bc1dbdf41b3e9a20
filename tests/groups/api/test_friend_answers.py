"""`POST /api/friends/requests/{id}/accept/` and `.../decline/` (SPEC §5): who may answer, and
how often.

Asking is in tests/groups/api/test_friend_requests.py, the friend list in
tests/groups/api/test_friends.py; what an answer relays is in
tests/groups/actions/test_respond_to_friend_request.py.
"""

import pytest

from accounts.models import FriendRequest, Notification
from tests.conftest import REQUESTS, answer, err, ok

pytestmark = pytest.mark.django_db


def test_the_target_accepts(api, alice, bob, pending):
    data = ok(api(bob).post(answer(pending, "accept")))
    assert data["status"] == "accepted" and data["responded_at"]
    note = Notification.objects.get(user=alice)
    assert note.kind == "friendaccept" and note.data == {"requestid": pending, "userid": bob.pk}


def test_the_target_declines_quietly(api, alice, bob, pending):
    assert ok(api(bob).post(answer(pending, "decline")))["status"] == "declined"
    assert FriendRequest.objects.get().status == "declined"
    assert not Notification.objects.filter(user=alice).exists()


@pytest.mark.parametrize("verb", ["accept", "decline"])
def test_the_sender_cannot_answer_their_own_request(api, alice, pending, verb):
    err(api(alice).post(answer(pending, verb)), 403, "forbidden")
    assert FriendRequest.objects.get().status == "pending"


@pytest.mark.parametrize("verb", ["accept", "decline"])
def test_a_stranger_cannot_see_the_request(api, charlie, pending, verb):
    err(api(charlie).post(answer(pending, verb)), 404, "not_found")
    assert FriendRequest.objects.get().status == "pending"


@pytest.mark.parametrize("raw", ["999999", "abc", "9" * 30, "-1"])
def test_answering_a_missing_or_malformed_request_is_not_found(api, bob, raw):
    err(api(bob).post(f"{REQUESTS}{raw}/accept/"), 404, "not_found")


def test_accepting_twice_is_a_conflict(api, bob, pending):
    ok(api(bob).post(answer(pending, "accept")))
    err(api(bob).post(answer(pending, "accept")), 409, "conflict")
    err(api(bob).post(answer(pending, "decline")), 409, "conflict")
    assert FriendRequest.objects.get().status == "accepted"


def test_answers_only_accept_post(api, bob, pending):
    for method in ("get", "put", "patch", "delete"):
        err(getattr(api(bob), method)(answer(pending, "accept")), 405, "method_not_allowed")
