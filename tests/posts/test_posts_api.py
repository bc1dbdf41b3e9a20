"""REST for posts (SPEC §4): create, edit, delete, the feed, and who may see what."""

import pytest

from groups.actions import add_member, leave_group, set_role
from groups.models import Role
from posts.models import Like, Post
from tests.conftest import err, group_with, ok
from tests.sockets import call, recv, send, subscribe

FEED = "/api/posts/"

pytestmark = pytest.mark.django_db


def detail(post):
    return f"/api/posts/{post.pk}/"


def ids(results):
    return [p["id"] for p in results]


# --- create -----------------------------------------------------------------------------------
def test_it_creates_a_public_post(api, alice):
    data = ok(api(alice).post(FEED, {"content": "first!"}, format="json"), 201)

    post = Post.objects.get()
    assert data["id"] == post.pk and post.author == alice and post.group is None
    assert data["author"] == {"id": alice.pk, "username": "alice", "display_name": "Alice"}
    assert data["content"] == "first!" and data["group_id"] is None
    assert data["likes_count"] == 0 and data["liked_by_me"] is False
    assert data["created_at"].endswith("Z")


def test_a_member_posts_in_a_group_by_numeric_string_id(api, bob, public_group, private_group):
    for group in (public_group, private_group):
        data = ok(api(bob).post(FEED, {"content": "hi", "group_id": str(group.pk)}, format="json"), 201)
        assert data["group_id"] == group.pk
    assert Post.objects.filter(author=bob).count() == 2


def test_it_rejects_a_non_member_posting_in_a_public_group(api, charlie, public_group):
    err(api(charlie).post(FEED, {"content": "hi", "group_id": public_group.pk}, format="json"), 403, "forbidden")
    assert not Post.objects.exists()


def test_a_private_group_is_not_found_for_a_non_member(api, charlie, private_group):
    body = err(api(charlie).post(FEED, {"content": "hi", "group_id": private_group.pk}, format="json"),
               404, "not_found")
    assert body["details"] == {"group_id": ["No such group."]}
    err(api(charlie).post(FEED, {"content": "hi", "group_id": 987654}, format="json"), 404, "not_found")
    assert not Post.objects.exists()


@pytest.mark.parametrize("body", [
    {},
    {"content": ""},
    {"content": "   "},
    {"content": "x" * 10001},
    {"content": "hi", "group_id": "abc"},
    {"content": "hi", "group_id": 0},
    {"content": "hi", "group_id": True},
    {"content": "hi", "group_id": 2**63},
])
def test_it_rejects_bad_input_without_creating(api, alice, body):
    body = err(api(alice).post(FEED, body, format="json"), 400, "validation_error")
    assert body["details"]
    assert not Post.objects.exists()


def test_it_requires_authentication(anon, alice, make_post):
    post = make_post(alice)
    err(anon.get(FEED), 401, "not_authenticated")
    err(anon.post(FEED, {"content": "hi"}, format="json"), 401, "not_authenticated")
    err(anon.get(detail(post)), 401, "not_authenticated")
    err(anon.post(detail(post) + "like/"), 401, "not_authenticated")


# --- edit ---------------------------------------------------------------------------------------
def test_the_author_edits_a_post(api, alice, make_post):
    post = make_post(alice, content="before")
    data = ok(api(alice).patch(detail(post), {"content": "after"}, format="json"))
    assert data["content"] == "after" and data["id"] == post.pk
    post.refresh_from_db()
    assert post.content == "after"


def test_only_the_author_edits(api, alice, bob, charlie, make_user, public_group, make_post):
    post = make_post(bob, public_group, content="mine")
    staff = make_user("staff", is_staff=True)
    for other in (alice, charlie, staff):  # the group's owner and staff may delete, not edit
        err(api(other).patch(detail(post), {"content": "theirs"}, format="json"), 403, "forbidden")
    post.refresh_from_db()
    assert post.content == "mine"


def test_an_edit_with_bad_content_changes_nothing(api, alice, make_post):
    post = make_post(alice, content="before")
    err(api(alice).patch(detail(post), {"content": ""}, format="json"), 400, "validation_error")
    err(api(alice).patch(detail(post), {}, format="json"), 400, "validation_error")
    post.refresh_from_db()
    assert post.content == "before"


def test_put_is_not_allowed(api, alice, make_post):
    post = make_post(alice)
    response = api(alice).put(detail(post), {"content": "x"}, format="json")
    assert response.status_code == 405


# --- delete ---------------------------------------------------------------------------------------
@pytest.fixture
def dana(make_user, public_group, alice):
    """An admin of the public group."""
    user = make_user("dana", display_name="Dana")
    add_member(actor=alice, group=public_group, target=user)
    set_role(actor=alice, group=public_group, target=user, role=Role.ADMIN)
    return user


@pytest.mark.parametrize("deleter", ["author", "owner", "admin", "staff"])
def test_who_may_delete_a_group_post(api, bob, alice, dana, make_user, public_group, make_post, deleter):
    post = make_post(bob, public_group)
    actor = {"author": bob, "owner": alice, "admin": dana,
             "staff": make_user("staff", is_staff=True, perms=["posts.delete_post"])}[deleter]
    assert ok(api(actor).delete(detail(post))) is None
    assert not Post.objects.filter(pk=post.pk).exists()
    err(api(bob).get(detail(post)), 404, "not_found")


def test_staff_delete_a_public_post_through_the_desk_with_an_audit_row(api, alice, make_user, make_post):
    from moderation.models import ModerationLog

    post = make_post(alice)
    moderator = make_user("mod", is_staff=True, perms=["posts.delete_post"])
    ok(api(moderator).delete(detail(post), {"reason": "spam"}, format="json"))
    assert not Post.objects.exists()
    entry = ModerationLog.objects.get()
    assert (entry.moderator, entry.action, entry.target_id, entry.reason) == (moderator, "delete_post", post.pk, "spam")


def test_staff_without_the_permission_may_not_delete_a_post(api, alice, make_user, make_post):
    """Being staff is not a permission: the desk's own check applies to REST too."""
    from moderation.models import ModerationLog

    post = make_post(alice)
    err(api(make_user("intern", is_staff=True)).delete(detail(post)), 403, "forbidden")
    assert Post.objects.filter(pk=post.pk).exists() and not ModerationLog.objects.exists()


def test_others_may_not_delete(api, alice, bob, charlie, dana, make_user, public_group, make_post):
    group_post = make_post(alice, public_group)
    public_post = make_post(alice)
    other_group = group_with(charlie, name="elsewhere")
    other_post = make_post(charlie, other_group)
    err(api(bob).delete(detail(group_post)), 403, "forbidden")  # a plain member
    err(api(charlie).delete(detail(group_post)), 403, "forbidden")  # an outsider
    err(api(bob).delete(detail(public_post)), 403, "forbidden")
    err(api(dana).delete(detail(public_post)), 403, "forbidden")  # a group admin, but not this post's group
    err(api(alice).delete(detail(other_post)), 403, "forbidden")  # owner of another group
    assert Post.objects.count() == 3


def test_deleting_a_private_post_is_not_found_for_outsiders(api, alice, charlie, private_group, make_post):
    post = make_post(alice, private_group)
    err(api(charlie).delete(detail(post)), 404, "not_found")
    assert Post.objects.filter(pk=post.pk).exists()


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
