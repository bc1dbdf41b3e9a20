"""The feed costs the same number of queries for 3 posts as for 25: no query per post.

`likes_count` is a column and `liked_by_me` an annotation, the author is joined, so
a page of the feed is one query whatever its length (plus authentication).
"""

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from posts.actions import like_post
from tests.conftest import ok

pytestmark = pytest.mark.django_db

MAX_FEED_QUERIES = 3  # the signed-in user, the page; one to spare


@pytest.fixture
def feed(api, alice, bob, charlie, public_group, private_group, make_post):
    """`feed.grow(n)` adds n posts (mixed authors and groups, mixed likes); `feed.read(url)` -> (queries, data)."""
    places = itertools.cycle([(alice, None), (charlie, None), (alice, public_group), (bob, private_group),
                              (bob, public_group)])
    liked_by_bob, count_of = set(), {}
    client = api(bob)

    class Feed:
        def grow(self, n):
            for _ in range(n):
                author, group = next(places)
                post = make_post(author, group)
                index = len(count_of)
                count_of[post.pk] = 0
                if index % 3 == 0:
                    like_post(actor=bob, post=post, liked=True)
                    liked_by_bob.add(post.pk)
                    count_of[post.pk] += 1
                if index % 2 == 0:
                    like_post(actor=alice, post=post, liked=True)
                    count_of[post.pk] += 1

        def read(self, url="/api/posts/?limit=100"):
            with CaptureQueriesContext(connection) as queries:
                data = ok(client.get(url))
            return len(queries), data

        def check(self, data):
            for post in data["results"]:
                assert post["liked_by_me"] is (post["id"] in liked_by_bob), post
                assert post["likes_count"] == count_of[post["id"]], post
                assert post["author"]["username"] in ("alice", "bob", "charlie"), post

    return Feed()


def test_the_feed_runs_the_same_queries_for_3_posts_and_for_25(feed):
    feed.grow(3)
    few, data = feed.read()
    assert len(data["results"]) == 3
    feed.check(data)

    feed.grow(22)
    many, data = feed.read()
    assert len(data["results"]) == 25
    feed.check(data)
    assert {p["liked_by_me"] for p in data["results"]} == {True, False}

    assert many == few, (few, many)
    assert few <= MAX_FEED_QUERIES


def test_every_page_of_the_feed_costs_the_same(feed):
    feed.grow(3)
    few, _ = feed.read("/api/posts/")
    feed.grow(22)
    first, data = feed.read("/api/posts/")  # 20 of 25, with a `next` link
    assert len(data["results"]) == 20 and data["next"]
    feed.check(data)
    second, data = feed.read(data["next"])
    assert len(data["results"]) == 5 and data["previous"]
    feed.check(data)
    assert few == first == second


def test_a_filtered_feed_costs_the_same(feed, public_group, alice):
    feed.grow(3)
    few, _ = feed.read(f"/api/posts/?limit=100&group={public_group.pk}&author={alice.pk}")
    feed.grow(22)
    many, data = feed.read(f"/api/posts/?limit=100&group={public_group.pk}&author={alice.pk}")
    assert len(data["results"]) == 5
    feed.check(data)
    assert few == many
