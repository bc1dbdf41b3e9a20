"""REST for friends (SPEC §5): requests, answers, the friend list, and who hears about them live."""

import pytest

from accounts.models import FriendRequest, Notification
from tests.conftest import err, ok
from tests.sockets import call, expect, nothing, recv_types, rest, unnumbered, user_shape

pytestmark = pytest.mark.django_db

REQUESTS = "/api/friends/requests/"
FRIENDS = "/api/friends/"


def answer(request_id, verb):
    return f"{REQUESTS}{request_id}/{verb}/"


def ask(client, user):
    return client.post(REQUESTS, {"to": user.pk}, format="json")


@pytest.fixture
def pending(api, alice, bob):
    """alice asked bob; the request's id."""
    return ok(ask(api(alice), bob), 201)["id"]


# --- requests --------------------------------------------------------------------------------
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


# --- answers ---------------------------------------------------------------------------------
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


# --- the friend list --------------------------------------------------------------------------
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


@pytest.mark.parametrize("method, url", [("get", FRIENDS), ("get", REQUESTS), ("post", REQUESTS),
                                         ("post", answer(1, "accept")), ("post", answer(1, "decline"))])
def test_friend_endpoints_need_a_signed_in_user(anon, bob, method, url):
    err(getattr(anon, method)(url, {"to": bob.pk}, format="json"), 401, "not_authenticated")
    assert not FriendRequest.objects.exists()


# --- live -------------------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_the_target_gets_a_friendrequest_frame_and_a_notification(aapi, connect, alice, bob, charlie):
    asker, target, other = await connect(alice), await connect(bob), await connect(charlie)
    client = await aapi(alice)

    data = ok(await rest(client, "post", REQUESTS, {"to": bob.pk}), 201)
    frames = await recv_types(target, "friendrequest", "notification")
    assert unnumbered(frames["friendrequest"]) == {"identifier": "kirimin", "type": "friendrequest", "id": data["id"],
                                       "from": user_shape(alice)}
    note = await call(Notification.objects.get, user=bob)
    assert unnumbered(frames["notification"]) == {"identifier": "kirimin", "type": "notification", "id": note.pk,
                                      "kind": "friendrequest", "message": note.message, "data": note.data}
    await nothing(asker, target, other)

    # Asking again while pending relays nothing.
    ok(await rest(client, "post", REQUESTS, {"to": bob.pk}), 200)
    await nothing(asker, target, other)


@pytest.mark.django_db(transaction=True)
async def test_accepting_notifies_the_requester_live_and_shows_them_online(aapi, connect, alice, bob):
    asker, target = await connect(alice), await connect(bob)
    alice_api, bob_api = await aapi(alice), await aapi(bob)
    request_id = ok(await rest(alice_api, "post", REQUESTS, {"to": bob.pk}), 201)["id"]
    await recv_types(target, "friendrequest", "notification")

    ok(await rest(bob_api, "post", answer(request_id, "accept")))
    frame = await expect(asker, "notification", kind="friendaccept")
    assert frame["data"] == {"requestid": request_id, "userid": bob.pk}
    await nothing(asker, target)

    friends = ok(await rest(bob_api, "get", FRIENDS))["results"]
    assert [(f["user"]["id"], f["online"]) for f in friends] == [(alice.pk, True)]
    await asker.disconnect()
    friends = ok(await rest(bob_api, "get", FRIENDS))["results"]
    assert [(f["user"]["id"], f["online"]) for f in friends] == [(alice.pk, False)]


def test_asking_again_and_again_after_declines_notifies_once_a_day(api, alice, bob, pending):
    for _ in range(3):
        ok(api(bob).post(answer(pending, "decline")))
        ok(ask(api(alice), bob), 201)
    assert Notification.objects.filter(user=bob, kind="friendrequest").count() == 1
