"""`GET /api/friends/` (SPEC §5): the friend list, on both sides, with since and presence.

Asking and answering are in tests/groups/api/test_friend_requests.py and
test_friend_answers.py; who is shown online once a request is accepted, live, in
tests/groups/actions/test_respond_to_friend_request.py.
"""

import pytest

from accounts.models import FriendRequest
from tests.conftest import FRIENDS, REQUESTS, answer, ask, err, ok
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db


def test_friends_are_listed_on_both_sides_with_since(api, alice, bob, charlie, pending):
    ok(ask(api(charlie), alice), 201)  # pending: not a friend yet
    ok(api(bob).post(answer(pending, "accept")))
    since = FriendRequest.objects.get(pk=pending).responded_at

    for me, friend in ((alice, bob), (bob, alice)):
        results = ok(api(me).get(FRIENDS))["results"]
        assert results == [{"user": user_shape(friend), "since": results[0]["since"], "online": False,
                            "last_seen": None}]  # never connected
        assert results[0]["since"].startswith(since.strftime("%Y-%m-%dT%H:%M:%S"))
    assert ok(api(charlie).get(FRIENDS))["results"] == []


def test_a_declined_request_is_no_friendship(api, alice, bob, pending):
    ok(api(bob).post(answer(pending, "decline")))
    assert ok(api(alice).get(FRIENDS))["results"] == []


def test_the_friend_list_only_accepts_get(api, alice):
    for method in ("post", "put", "patch", "delete"):
        err(getattr(api(alice), method)(FRIENDS, {}, format="json"), 405, "method_not_allowed")
    err(api(alice).delete(REQUESTS), 405, "method_not_allowed")
