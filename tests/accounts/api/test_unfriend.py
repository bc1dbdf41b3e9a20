"""`DELETE /api/friends/{user_id}/` (issue 23): either friend ends the friendship, both are told
live (`unfriend`), nobody else is, and either may ask again later.

Friend requests and the friend list are in tests/groups/api/test_friend_requests.py, test_friend_answers.py and test_friends.py.
"""

import pytest

from accounts import actions
from accounts.models import FriendRequest
from tests.conftest import err, ok
from tests.sockets import call, expect, nothing, rest, unnumbered, user_shape

pytestmark = pytest.mark.django_db


def friends(alice, bob):
    request, _ = actions.send_friend_request(actor=alice, target=bob)
    actions.respond_to_friend_request(actor=bob, request=request, accept=True)


def url(user):
    return f"/api/friends/{user.pk}/"


def friend_ids(client):
    return [row["user"]["id"] for row in ok(client.get("/api/friends/"))["results"]]


@pytest.mark.parametrize("who", ["asker", "asked"])
def test_either_friend_ends_the_friendship(api, alice, bob, who):
    friends(alice, bob)
    actor, other = (alice, bob) if who == "asker" else (bob, alice)
    assert ok(api(actor).delete(url(other))) == {"user_id": other.pk, "changed": True}
    assert friend_ids(api(alice)) == [] and friend_ids(api(bob)) == []
    assert not FriendRequest.objects.exists()


def test_ending_it_again_or_with_a_stranger_changes_nothing(api, alice, bob, charlie, capture_events):
    friends(alice, bob)
    with capture_events.capture():
        assert ok(api(alice).delete(url(charlie))) == {"user_id": charlie.pk, "changed": False}
    assert capture_events == []
    assert friend_ids(api(alice)) == [bob.pk]


def test_a_pending_request_is_not_a_friendship(api, alice, bob):
    actions.send_friend_request(actor=alice, target=bob)
    assert ok(api(bob).delete(url(alice)))["changed"] is False
    assert FriendRequest.objects.get().status == "pending"


def test_either_may_ask_again_afterwards(api, alice, bob):
    friends(alice, bob)
    ok(api(bob).delete(url(alice)))
    assert ok(api(bob).post("/api/friends/requests/", {"to": alice.pk}, format="json"), 201)["status"] == "pending"


def test_an_unknown_user_is_not_found_and_a_stranger_may_not_ask(api, alice, anon):
    err(api(alice).delete("/api/friends/999999/"), 404, "not_found")
    err(api(alice).delete("/api/friends/abc/"), 404, "not_found")
    err(anon.delete(url(alice)), 401, "not_authenticated")


def test_both_are_told_and_nobody_else(api, alice, bob, charlie, capture_events):
    friends(alice, bob)
    with capture_events.capture():
        ok(api(bob).delete(url(alice)))
    (told,) = capture_events
    assert told["users"] == sorted([alice.pk, bob.pk]) and told["groups"] == [] and told["channels"] == []
    assert told["event"] == {"identifier": "kirimin", "type": "unfriend", "by": user_shape(bob),
                             "user": user_shape(alice)}


@pytest.mark.django_db(transaction=True)
async def test_both_sockets_get_unfriend_live(aapi, connect, alice, bob, charlie):
    await call(friends, alice, bob)
    mine, theirs, other = await connect(alice), await connect(bob), await connect(charlie)
    ok(await rest(await aapi(alice), "delete", url(bob)))
    expected = {"identifier": "kirimin", "type": "unfriend", "by": user_shape(alice), "user": user_shape(bob)}
    assert unnumbered(await expect(mine, "unfriend")) == expected
    assert unnumbered(await expect(theirs, "unfriend")) == expected
    await nothing(other)
