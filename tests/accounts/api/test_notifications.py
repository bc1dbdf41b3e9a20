"""Notifications (SPEC §5): what creates one, listing and marking read.

The live `notification` frame is with the action that sends it: a like's in
tests/posts/actions/test_like_post.py, a kick's in tests/groups/api/test_kick.py, a friend
request's in tests/groups/actions/test_send_friend_request.py.
"""

import pytest

from accounts.actions import notify_user
from accounts.models import Notification
from posts.actions import create_post
from tests.conftest import err, group_with, like_url, ok

pytestmark = pytest.mark.django_db

NOTES = "/api/notifications/"
READ = "/api/notifications/read/"


def kinds(user):
    return list(Notification.objects.filter(user=user).order_by("id").values_list("kind", flat=True))


# --- what creates one ---------------------------------------------------------------------------
def test_a_like_by_someone_else_notifies_the_author_once(api, alice, bob):
    post = create_post(actor=alice, content="hello")
    ok(api(bob).post(like_url(post)))
    ok(api(bob).post(like_url(post)))  # idempotent: no second notification
    ok(api(bob).delete(like_url(post)))  # unliking notifies nobody
    assert kinds(alice) == ["like"] and kinds(bob) == []
    assert Notification.objects.get().data == {"postid": post.pk, "userid": bob.pk}


def test_liking_your_own_post_notifies_nobody(api, alice):
    post = create_post(actor=alice, content="me")
    ok(api(alice).post(like_url(post)))
    assert not Notification.objects.exists()


def test_friend_request_and_kick_notify_their_target(api, alice, bob, charlie):
    group = group_with(alice, bob)
    ok(api(charlie).post("/api/friends/requests/", {"to": bob.pk}, format="json"), 201)
    ok(api(alice).post(f"/api/groups/{group.pk}/kick/", {"user_id": bob.pk}, format="json"))
    assert kinds(bob) == ["friendrequest", "kick"]
    assert kinds(alice) == kinds(charlie) == []


# --- listing -------------------------------------------------------------------------------------
def test_notifications_are_listed_newest_first_and_only_mine(api, alice, bob):
    first = notify_user(user=alice, kind="like", message="one", data={"postid": 1})
    notify_user(user=bob, kind="like", message="not alice's")
    second = notify_user(user=alice, kind="kick", message="two")
    results = ok(api(alice).get(NOTES))["results"]
    assert [n["id"] for n in results] == [second.pk, first.pk]
    assert results[1] == {"id": first.pk, "kind": "like", "message": "one", "data": {"postid": 1}, "read": False,
                          "created_at": results[1]["created_at"]}
    assert results[1]["created_at"].endswith("Z")


def test_unread_lists_only_unread(api, alice):
    read = notify_user(user=alice, kind="like", message="seen")
    unread = notify_user(user=alice, kind="like", message="new")
    Notification.objects.filter(pk=read.pk).update(read=True)
    assert [n["id"] for n in ok(api(alice).get(NOTES, {"unread": "1"}))["results"]] == [unread.pk]
    assert len(ok(api(alice).get(NOTES, {"unread": "0"}))["results"]) == 2


def test_notifications_are_paginated(api, alice):
    for i in range(3):
        notify_user(user=alice, kind="like", message=f"n{i}")
    page = ok(api(alice).get(NOTES, {"limit": 2}))
    assert [n["message"] for n in page["results"]] == ["n2", "n1"]
    assert [n["message"] for n in ok(api(alice).get(page["next"]))["results"]] == ["n0"]
    err(api(alice).get(NOTES, {"limit": 101}), 400, "validation_error")


# --- marking read ------------------------------------------------------------------------------
@pytest.fixture
def three(alice):
    return [notify_user(user=alice, kind="like", message=f"n{i}").pk for i in range(3)]


def unread_ids(user):
    return sorted(Notification.objects.filter(user=user, read=False).values_list("id", flat=True))


def test_marking_some_read_by_ids(api, alice, three):
    assert ok(api(alice).post(READ, {"ids": [three[0], str(three[2])]}, format="json")) == {"updated": 2}
    assert unread_ids(alice) == [three[1]]
    assert ok(api(alice).post(READ, {"ids": [three[0]]}, format="json")) == {"updated": 0}  # already read


def test_marking_all_read(api, alice, bob, three):
    theirs = notify_user(user=bob, kind="like", message="bob's")
    assert ok(api(alice).post(READ, {"all": True}, format="json")) == {"updated": 3}
    assert unread_ids(alice) == [] and unread_ids(bob) == [theirs.pk]


def test_nobody_marks_someone_elses_notifications(api, bob, alice, three):
    assert ok(api(bob).post(READ, {"ids": three}, format="json")) == {"updated": 0}
    assert unread_ids(alice) == sorted(three)


@pytest.mark.parametrize("body", [{}, {"ids": []}, {"all": False}, {"ids": "1"}, {"ids": ["x"]}, {"ids": [0]},
                                  {"ids": None}, {"all": "maybe"}, {"ids": list(range(1, 1002))}])
def test_marking_read_without_ids_or_all_is_a_validation_error(api, alice, three, body):
    err(api(alice).post(READ, body, format="json"), 400, "validation_error")
    assert unread_ids(alice) == sorted(three)


def test_notification_endpoints_refuse_other_methods(api, alice):
    for method in ("post", "put", "patch", "delete"):
        err(getattr(api(alice), method)(NOTES, {}, format="json"), 405, "method_not_allowed")
    for method in ("get", "put", "delete"):
        err(getattr(api(alice), method)(READ, {}, format="json"), 405, "method_not_allowed")


@pytest.mark.parametrize("method, url", [("get", NOTES), ("post", READ)])
def test_notification_endpoints_need_a_signed_in_user(anon, method, url):
    err(getattr(anon, method)(url, {"all": True}, format="json"), 401, "not_authenticated")
