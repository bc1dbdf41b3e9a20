"""Likes under concurrency: `likes_count` equals the Like rows, and a double like is one like.

Real threads, each with its own database connection, call `posts.actions.like_post`
at the same instant (a barrier), so the row lock and the unique constraint are what
keep the count exact. What the action relays is captured, to check it relays once
per actual change. A like racing the post's delete is a NotFound, never a 500.
"""

import asyncio
import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.models import Notification
from config.errors import NotFound
from posts.actions import delete_post, like_post
from posts.models import Like, Post
from tests.conftest import needs_postgres, ok
from tests.sockets import call, nothing, recv, recv_types, send


def threaded(test):
    """Real threads, real row locks: PostgreSQL only. SQLite's in-memory test database (shared
    cache) fails concurrent writers at once with "database table is locked" instead of waiting."""
    return needs_postgres(pytest.mark.postgres(pytest.mark.django_db(transaction=True)(test)))


def race(post, calls, also=(), sent=None):
    """Run `like_post(actor=user, post=post, liked=liked)` for every (user, liked) in `calls` at once.

    `also`: more callables to start at the same instant; `sent`: the `capture_events` that
    record what each like relays. Returns the results (or the NotFound a like got); any
    other exception in a thread fails the test.
    """
    barrier = threading.Barrier(len(calls) + len(also))
    results, errors = [None] * len(calls), []
    mine = {}

    def worker(index, user, liked):
        try:
            mine[index] = Post.objects.select_related("author").get(pk=post.pk)  # each thread its own instance
            connection.close()  # back to the pool while waiting: more threads than pooled connections
            barrier.wait(timeout=10)
            results[index] = like_post(actor=user, post=mine[index], liked=liked)
            if sent is not None:
                sent.take()
        except NotFound as exc:
            results[index] = exc
        except Exception as exc:  # reported below: an exception in a thread fails nothing by itself
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()  # the thread's own connection, or the test database stays busy

    def other(fn):
        try:
            barrier.wait(timeout=10)
            fn()
        except Exception as exc:
            errors.append(exc)
            barrier.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, user, liked)) for i, (user, liked) in enumerate(calls)]
    threads += [threading.Thread(target=other, args=(fn,)) for fn in also]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a like is stuck (a deadlock?)"
    assert errors == [], errors
    return results


def counts(post):
    return Post.objects.get(pk=post.pk).likes_count, Like.objects.filter(post=post).count()


@threaded
def test_many_simultaneous_likes_and_unlikes_keep_the_count_exact(alice, make_user, make_post, capture_events):
    post = make_post(alice)
    likers = [make_user() for _ in range(10)]
    unlikers = [make_user() for _ in range(4)]
    for user in unlikers:
        like_post(actor=user, post=post, liked=True)
    del capture_events[:]

    calls = [(user, True) for user in likers for _ in range(2)] + [(user, False) for user in unlikers for _ in range(2)]
    results = race(post, calls, sent=capture_events)

    assert counts(post) == (10, 10)
    assert set(Like.objects.filter(post=post).values_list("user_id", flat=True)) == {u.pk for u in likers}
    assert all(0 <= r["likes_count"] <= 14 for r in results)
    # One relayed event and one notification per change, none for the duplicates.
    relayed = capture_events.of_type("postlike")
    assert sorted((e["event"]["userid"], e["event"]["liked"]) for e in relayed) == sorted(
        [(u.pk, True) for u in likers] + [(u.pk, False) for u in unlikers])
    assert Notification.objects.filter(user=alice, kind="like").count() == 10 + 4
    # The relayed counts are one walk of +1/-1 steps from 4 to 10 (the row lock serializes the
    # changes): across each edge c-1 -> c, ups minus downs is 1 inside 4..10 and 0 elsewhere.
    ups = Counter(e["event"]["likes_count"] for e in relayed if e["event"]["liked"])
    downs = Counter(e["event"]["likes_count"] for e in relayed if not e["event"]["liked"])
    for c in range(1, 16):
        assert ups[c] - downs[c - 1] == (1 if 4 < c <= 10 else 0), (c, ups, downs)


@threaded
def test_the_same_user_liking_twice_at_once_makes_one_like(alice, bob, make_post, capture_events):
    post = make_post(alice)
    for round_ in range(5):
        results = race(post, [(bob, True), (bob, True)], sent=capture_events)
        assert [r["likes_count"] for r in results] == [1, 1], (round_, results)
        assert counts(post) == (1, 1)
        results = race(post, [(bob, False), (bob, False), (bob, False)], sent=capture_events)
        assert [r["likes_count"] for r in results] == [0, 0, 0], (round_, results)
        assert counts(post) == (0, 0)
    relayed = [e["event"]["liked"] for e in capture_events.of_type("postlike")]
    assert relayed.count(True) == 5 and relayed.count(False) == 5
    assert Notification.objects.filter(user=alice).count() == 1  # once per liker and post, however often


@threaded
def test_likes_racing_a_delete_are_not_found_never_a_500(alice, make_user, make_post, capture_events):
    """A like that loses to a delete answers NotFound; none may insert a Like of a deleted post."""
    for round_ in range(3):
        post = make_post(alice)
        likers = [make_user() for _ in range(8)]
        results = race(post, [(user, True) for user in likers],
                       also=[lambda post=post: delete_post(actor=alice, post=Post.objects.get(pk=post.pk))])
        assert all(isinstance(r, NotFound) or r["likes_count"] >= 1 for r in results), (round_, results)
        assert not Post.objects.filter(pk=post.pk).exists()
        assert not Like.objects.exists()



@threaded
def test_likes_and_unlikes_racing_a_delete_neither_deadlock_nor_fail(alice, make_user, make_post, capture_events):
    """Likes take the post's lock after writing their Like row, unlikes and deletes before
    deleting Like rows: with the three racing, none may deadlock (PostgreSQL would abort one
    with an error, a 500) and every answer is a count or NotFound."""
    for round_ in range(3):
        post = make_post(alice)
        likers, unlikers = [make_user() for _ in range(5)], [make_user() for _ in range(5)]
        for user in unlikers:
            like_post(actor=user, post=post, liked=True)
        calls = [(user, True) for user in likers] + [(user, False) for user in unlikers]
        results = race(post, calls,
                       also=[lambda post=post: delete_post(actor=alice, post=Post.objects.get(pk=post.pk))])
        assert all(isinstance(r, NotFound) or r["likes_count"] >= 0 for r in results), (round_, results)
        assert not Post.objects.filter(pk=post.pk).exists()
        assert not Like.objects.exists()

# --- everywhere: a stale post ---------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_liking_a_post_deleted_meanwhile_is_not_found(alice, bob, make_post, capture_events):
    post = make_post(alice)  # the caller's copy, fetched before the delete committed
    Post.objects.filter(pk=post.pk).delete()
    for liked in (True, False):
        with pytest.raises(NotFound):
            like_post(actor=bob, post=post, liked=liked)
    assert not Like.objects.exists() and not Notification.objects.exists()
    assert capture_events == []


# --- both entry points at once, through the real stack --------------------------------------------------
@needs_postgres
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
async def test_simultaneous_likes_over_sockets_and_rest_make_one_like(api, alice, bob, make_post, connect):
    """bob likes from two sockets and REST at the same moment: one like, one event, one notification.

    PostgreSQL only, like the threaded tests: the relay runs each socket's action on a
    worker thread of its own, and SQLite's in-memory test database refuses those
    concurrent writers ("database table is locked") where a file database would wait.
    """
    post = await call(make_post, alice)
    author, phone, laptop = await connect(alice), await connect(bob), await connect(bob)
    client = await call(api, bob)

    async def over(comm, ref):
        await send(comm, "postlike", postid=post.pk, ref=ref)
        return await recv(comm, timeout=5)

    acks = await asyncio.gather(over(phone, "p"), over(laptop, "l"), call(client.post, f"/api/posts/{post.pk}/like/"))
    assert [a["likes_count"] for a in acks[:2]] == [1, 1], acks
    assert ok(acks[2])["likes_count"] == 1
    assert await call(counts, post) == (1, 1)
    frames = await recv_types(author, "postlike", "notification")
    assert frames["postlike"]["likes_count"] == 1
    await nothing(author, phone, laptop)
    assert await call(Notification.objects.filter(user=alice).count) == 1
