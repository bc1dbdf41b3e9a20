"""REST for posts (SPEC §4): the feed, who may see what, and the authentication every post
endpoint needs.

Creating, editing and deleting a post have a file each in tests/posts/api/
(test_create_post.py, test_edit_post.py, test_delete_post.py), liking one too (test_like.py).
"""

import pytest

from groups.actions import leave_group
from posts.models import Like, Post
from tests.conftest import err, ok
from tests.posts.conftest import FEED, detail
from tests.sockets import call, recv, send, subscribe

pytestmark = pytest.mark.django_db


def ids(results):
    return [p["id"] for p in results]


# --- authentication --------------------------------------------------------------------------
def test_it_requires_authentication(anon, alice, make_post):
    post = make_post(alice)
    err(anon.get(FEED), 401, "not_authenticated")
    err(anon.post(FEED, {"content": "hi"}, format="json"), 401, "not_authenticated")
    err(anon.get(detail(post)), 401, "not_authenticated")
    err(anon.post(detail(post) + "like/"), 401, "not_authenticated")


# --- missing posts ----------------------------------------------------------------------------------
def test_missing_posts_are_not_found(api, alice):
    err(api(alice).get("/api/posts/987654/"), 404, "not_found")
    err(api(alice).delete("/api/posts/987654/"), 404, "not_found")
    err(api(alice).post("/api/posts/987654/like/"), 404, "not_found")
    err(api(alice).get("/api/posts/9999999999999999999999/"), 404, "not_found")


# --- the feed ---------------------------------------------------------------------------------------
def test_the_feed_is_newest_first(api, alice, bob, make_post):
    posts = [make_post(author, content=str(i)) for i, author in enumerate([alice, bob, alice])]
    data = ok(api(bob).get(FEED))
    assert ids(data["results"]) == [p.pk for p in reversed(posts)]
    assert data["next"] is None and data["previous"] is None


def test_the_feed_pages_with_a_cursor(api, alice, make_post):
    posts = [make_post(alice, content=str(i)) for i in range(7)]
    client = api(alice)
    seen, url, pages = [], f"{FEED}?limit=3", 0
    while url:
        data = ok(client.get(url))
        assert len(data["results"]) <= 3
        seen += ids(data["results"])
        url, pages = data["next"], pages + 1
    assert pages == 3
    assert seen == [p.pk for p in reversed(posts)]


def test_the_feed_shows_public_posts_and_the_callers_groups(api, alice, bob, charlie, public_group,
                                                           private_group, make_post):
    public = make_post(charlie)
    in_public_group = make_post(alice, public_group)
    in_private_group = make_post(alice, private_group)
    assert set(ids(ok(api(bob).get(FEED))["results"])) == {public.pk, in_public_group.pk, in_private_group.pk}
    assert set(ids(ok(api(charlie).get(FEED))["results"])) == {public.pk, in_public_group.pk}


def test_the_feed_filters_by_group_and_author(api, alice, bob, public_group, private_group, make_post):
    a_public = make_post(alice)
    a_group = make_post(alice, public_group)
    b_group = make_post(bob, public_group)
    b_private = make_post(bob, private_group)
    client = api(bob)
    assert ids(ok(client.get(FEED, {"group": public_group.pk}))["results"]) == [b_group.pk, a_group.pk]
    assert ids(ok(client.get(FEED, {"author": alice.pk}))["results"]) == [a_group.pk, a_public.pk]
    assert ids(ok(client.get(FEED, {"author": bob.pk, "group": private_group.pk}))["results"]) == [b_private.pk]
    assert ok(client.get(FEED, {"author": 987654}))["results"] == []


def test_filtering_by_a_private_group_shows_outsiders_nothing(api, alice, charlie, private_group, make_post):
    make_post(alice, private_group)
    assert ok(api(charlie).get(FEED, {"group": private_group.pk}))["results"] == []
    assert ok(api(charlie).get(FEED, {"author": alice.pk}))["results"] == []


@pytest.mark.parametrize("query", [
    {"group": "abc"}, {"group": "0"}, {"group": "-1"}, {"group": "1.5"}, {"author": "x"},
    {"author": "99999999999999999999999"}, {"limit": "0"}, {"limit": "101"}, {"limit": "ten"},
    {"cursor": "not-a-cursor"},
])
def test_bad_feed_filters_are_a_400(api, alice, make_post, query):
    make_post(alice)
    err(api(alice).get(FEED, query), 400, "validation_error")


# --- private groups and hidden posts ----------------------------------------------------------------
def test_a_private_post_is_invisible_to_outsiders(api, alice, bob, charlie, private_group, make_post):
    post = make_post(alice, private_group)
    assert ok(api(bob).get(detail(post)))["id"] == post.pk
    err(api(charlie).get(detail(post)), 404, "not_found")
    err(api(charlie).patch(detail(post), {"content": "x"}, format="json"), 404, "not_found")
    err(api(charlie).post(detail(post) + "like/"), 404, "not_found")
    err(api(charlie).delete(detail(post) + "like/"), 404, "not_found")
    assert not Like.objects.exists()
    assert post.pk not in ids(ok(api(charlie).get(FEED))["results"])


def test_a_hidden_post_is_invisible(api, alice, bob, make_post):
    post = make_post(alice)
    Post.objects.filter(pk=post.pk).update(is_hidden=True)
    for user in (alice, bob):
        assert ok(api(user).get(FEED))["results"] == []
        err(api(user).get(detail(post)), 404, "not_found")
    err(api(bob).post(detail(post) + "like/"), 404, "not_found")
    assert not Like.objects.exists()


def test_a_post_leaves_the_feed_of_a_member_who_leaves(api, alice, bob, private_group, make_post):
    post = make_post(alice, private_group)
    assert ids(ok(api(bob).get(FEED))["results"]) == [post.pk]
    leave_group(actor=bob, group=private_group)
    assert ok(api(bob).get(FEED))["results"] == []
    err(api(bob).get(detail(post)), 404, "not_found")


@pytest.mark.django_db(transaction=True)
async def test_outsiders_cannot_subscribe_to_a_private_post(alice, bob, charlie, private_group, make_post, connect):
    post = await call(make_post, alice, private_group)
    channel = f"post:{post.pk}"
    for who in (None, charlie):
        comm = await connect(who)
        await send(comm, "subscribe", channel=channel, ref="s")
        frame = await recv(comm)
        assert frame["type"] == "error" and frame["code"] == "not_found" and frame["ref"] == "s", frame
    await subscribe(await connect(bob), channel)  # a member may


@pytest.mark.django_db(transaction=True)
async def test_anyone_may_subscribe_to_a_public_post(alice, public_group, make_post, connect):
    public = await call(make_post, alice)
    in_group = await call(make_post, alice, public_group)
    hidden = await call(make_post, alice)
    await call(Post.objects.filter(pk=hidden.pk).update, is_hidden=True)
    anonymous = await connect()
    await subscribe(anonymous, f"post:{public.pk}")
    await subscribe(anonymous, f"post:{in_group.pk}")
    for channel in (f"post:{hidden.pk}", "post:987654"):
        await send(anonymous, "subscribe", channel=channel)
        frame = await recv(anonymous)
        assert frame["type"] == "error" and frame["code"] == "not_found", frame
