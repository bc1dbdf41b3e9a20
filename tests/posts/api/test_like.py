"""`/api/posts/{id}/like/` (SPEC §4): like (POST) and unlike (DELETE), idempotent; the counts
on the post; the author's notification; refusals.

What a like relays, and to whom, is in tests/posts/actions/test_like_post.py; the `postlike`
frame in tests/relay/frames/test_postlike.py; many likes at once in
tests/posts/test_like_concurrency.py.
"""

import pytest

from accounts.models import Notification
from tests.conftest import err, like_url, likes_of, ok

pytestmark = pytest.mark.django_db


def test_like_and_unlike_are_idempotent(api, alice, bob, make_post):
    post = make_post(alice)
    client = api(bob)
    for _ in range(2):
        assert ok(client.post(like_url(post))) == {"postid": post.pk, "liked": True, "likes_count": 1}
        assert likes_of(post) == (1, 1)
    for _ in range(2):
        assert ok(client.delete(like_url(post))) == {"postid": post.pk, "liked": False, "likes_count": 0}
        assert likes_of(post) == (0, 0)


def test_unliking_a_post_never_liked_changes_nothing(api, alice, bob, charlie, make_post):
    post = make_post(alice)
    ok(api(charlie).post(like_url(post)))
    assert ok(api(bob).delete(like_url(post))) == {"postid": post.pk, "liked": False, "likes_count": 1}
    assert likes_of(post) == (1, 1)


def test_likes_count_and_liked_by_me_show_on_the_post(api, alice, bob, charlie, make_post):
    post = make_post(alice)
    other = make_post(alice)
    ok(api(bob).post(like_url(post)))
    assert ok(api(charlie).post(like_url(post)))["likes_count"] == 2

    mine = ok(api(bob).get(f"/api/posts/{post.pk}/"))
    assert mine["likes_count"] == 2 and mine["liked_by_me"] is True
    theirs = ok(api(alice).get(f"/api/posts/{post.pk}/"))
    assert theirs["likes_count"] == 2 and theirs["liked_by_me"] is False
    feed = {p["id"]: p for p in ok(api(bob).get("/api/posts/"))["results"]}
    assert (feed[post.pk]["liked_by_me"], feed[post.pk]["likes_count"]) == (True, 2)
    assert (feed[other.pk]["liked_by_me"], feed[other.pk]["likes_count"]) == (False, 0)


def test_a_like_notifies_the_author_once(api, alice, bob, make_post):
    post = make_post(alice)
    ok(api(bob).post(like_url(post)))
    ok(api(bob).post(like_url(post)))  # a no-op notifies nobody

    notes = ok(api(alice).get("/api/notifications/"))["results"]
    assert len(notes) == 1, notes
    assert notes[0]["kind"] == "like" and notes[0]["read"] is False
    assert notes[0]["data"] == {"postid": post.pk, "userid": bob.pk}
    assert "Bob" in notes[0]["message"]
    assert ok(api(bob).get("/api/notifications/"))["results"] == []


def test_liking_your_own_post_notifies_nobody(api, alice, make_post):
    post = make_post(alice)
    assert ok(api(alice).post(like_url(post)))["likes_count"] == 1
    assert not Notification.objects.exists()


def test_an_unlike_notifies_nobody(api, alice, bob, make_post):
    post = make_post(alice)
    ok(api(bob).post(like_url(post)))
    Notification.objects.all().delete()
    ok(api(bob).delete(like_url(post)))
    assert not Notification.objects.exists()


def test_like_methods(api, alice, make_post):
    post = make_post(alice)
    assert api(alice).get(like_url(post)).status_code == 405
    assert api(alice).put(like_url(post)).status_code == 405


def test_a_refused_like_relays_nothing(api, charlie, alice, private_group, make_post, capture_events):
    post = make_post(alice, private_group)
    with capture_events.capture():
        err(api(charlie).post(like_url(post)), 404, "not_found")
    assert capture_events == []
    assert likes_of(post) == (0, 0)
