"""Likes (SPEC §4, §6): REST and the `postlike` frame call one action, relay to one audience."""

import pytest

from accounts.models import Notification
from groups.actions import leave_group
from posts.actions import like_post
from posts.models import Like, Post
from tests.conftest import err, ok
from tests.sockets import call, nothing, recv, recv_types, send, settle, subscribe, unnumbered

pytestmark = pytest.mark.django_db


def like_url(post):
    return f"/api/posts/{post.pk}/like/"


def likes_of(post):
    return Post.objects.get(pk=post.pk).likes_count, Like.objects.filter(post=post).count()


# --- REST ---------------------------------------------------------------------------------------
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


# --- what the action relays, and to whom ------------------------------------------------------------
def test_a_like_relays_to_the_author_the_post_channel_and_the_group(bob, alice, public_group, make_post,
                                                                     capture_events):
    post = make_post(alice, public_group)
    with capture_events.capture():
        like_post(actor=bob, post=post, liked=True)
    [sent] = capture_events.of_type("postlike")
    assert sent["event"] == {"identifier": "kirimin", "type": "postlike", "postid": post.pk, "userid": bob.pk,
                             "liked": True, "likes_count": 1}
    assert (sent["users"], sent["channels"], sent["groups"]) == ([alice.pk], [f"post:{post.pk}"],
                                                                 [public_group.pk])
    [note] = capture_events.of_type("notification")
    assert note["users"] == [alice.pk] and note["event"]["kind"] == "like"


def test_a_private_posts_like_relays_to_its_members_not_to_the_post_channel(bob, alice, private_group,
                                                                            make_post, capture_events):
    # Everyone allowed to subscribe to the post is a member; a subscriber who left must not hear.
    post = make_post(alice, private_group)
    with capture_events.capture():
        like_post(actor=bob, post=post, liked=True)
    [sent] = capture_events.of_type("postlike")
    assert (sent["users"], sent["channels"], sent["groups"]) == ([alice.pk], [], [private_group.pk])


def test_a_no_op_relays_nothing(bob, alice, make_post, capture_events):
    post = make_post(alice)
    like_post(actor=bob, post=post, liked=True)
    with capture_events.capture():
        assert like_post(actor=bob, post=post, liked=True)["likes_count"] == 1
        assert like_post(actor=alice, post=post, liked=False)["likes_count"] == 1
    assert capture_events == []


def test_a_refused_like_relays_nothing(api, charlie, alice, private_group, make_post, capture_events):
    post = make_post(alice, private_group)
    with capture_events.capture():
        err(api(charlie).post(like_url(post)), 404, "not_found")
    assert capture_events == []
    assert likes_of(post) == (0, 0)


# --- the `postlike` frame -------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_the_postlike_frame_does_what_rest_does(alice, bob, make_post, connect):
    post = await call(make_post, alice)
    comm = await connect(bob)
    await send(comm, "postlike", postid=str(post.pk), ref="1")  # `liked` defaults to true
    assert await recv(comm) == {"identifier": "kirimin", "type": "ack", "ref": "1",
                                "postid": post.pk, "liked": True, "likes_count": 1}
    await send(comm, "postlike", postid=post.pk, liked=True, ref="2")
    assert (await recv(comm))["likes_count"] == 1
    assert await call(likes_of, post) == (1, 1)
    assert await call(Notification.objects.filter(user=alice, kind="like").count) == 1

    for ref in ("3", "4"):
        await send(comm, "postlike", postid=post.pk, liked=False, ref=ref)
        assert await recv(comm) == {"identifier": "kirimin", "type": "ack", "ref": ref,
                                    "postid": post.pk, "liked": False, "likes_count": 0}
    assert await call(likes_of, post) == (0, 0)
    await nothing(comm)  # bob is not the post's audience: acks only


@pytest.mark.django_db(transaction=True)
async def test_the_postlike_frame_is_refused_like_rest(alice, charlie, private_group, make_post, connect):
    public = await call(make_post, alice)
    private = await call(make_post, alice, private_group)
    anonymous = await connect()
    await send(anonymous, "postlike", postid=public.pk, ref="a")
    frame = await recv(anonymous)
    assert (frame["type"], frame["code"], frame["ref"]) == ("error", "unauthorized", "a"), frame

    comm = await connect(charlie)
    await send(comm, "postlike", postid=private.pk, ref="p")
    frame = await recv(comm)
    assert (frame["type"], frame["code"], frame["ref"]) == ("error", "not_found", "p"), frame
    for bad in ({}, {"postid": "abc"}, {"postid": 0}, {"postid": public.pk, "liked": "maybe"}):
        await send(comm, "postlike", **bad)
        frame = await recv(comm)
        assert frame["type"] == "error" and frame["code"] == "invalid_frame" and frame["details"], frame
    assert await call(Like.objects.count) == 0


# --- the relayed `postlike`, over real sockets ----------------------------------------------------------
@pytest.fixture
def dana(make_user):
    """A liker who is not in the post's audience: she sees only her own acks."""
    return make_user("dana", display_name="Dana")


async def like_via(entry, api, user, post, liked=True, comm=None):
    """Like or unlike through REST or through `comm`'s `postlike` frame; the result either way.

    Over a socket only the `ack` is read: a liker who is also in the post's audience
    reads the relayed event (which may come first) with `relayed_and_ack`.
    """
    if entry == "rest":
        client = await call(api, user)  # minting the JWT writes to the database
        response = await call(client.post if liked else client.delete, like_url(post))
        return ok(response)
    await send(comm, "postlike", postid=post.pk, liked=liked, ref="like")
    frame = await recv(comm)
    assert frame["type"] == "ack" and frame["ref"] == "like", frame
    return {k: frame[k] for k in ("postid", "liked", "likes_count")}


async def relayed_and_ack(comm, post, liked=True):
    """Send `postlike` on a socket that is in the audience: (the relayed event, the ack), in any order."""
    await send(comm, "postlike", postid=post.pk, liked=liked, ref="like")
    frames = await recv_types(comm, "postlike", "ack")
    assert frames["ack"]["ref"] == "like" and frames["ack"]["likes_count"] == frames["postlike"]["likes_count"]
    return frames["postlike"], frames["ack"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("entry", ["rest", "frame"])
async def test_a_like_reaches_the_author_subscribers_and_group_members(entry, api, alice, bob, charlie, dana,
                                                                       public_group, make_post, connect):
    post = await call(make_post, alice, public_group)
    author_phone, author_laptop = await connect(alice), await connect(alice)
    member = await connect(bob)
    subscriber = await connect()  # anonymous
    await subscribe(subscriber, f"post:{post.pk}")
    outsider = await connect(charlie)
    liker = await connect(dana)

    assert await like_via(entry, api, dana, post, comm=liker) == {"postid": post.pk, "liked": True,
                                                                   "likes_count": 1}
    expected = {"identifier": "kirimin", "type": "postlike", "postid": post.pk, "userid": dana.pk,
                "liked": True, "likes_count": 1}
    for comm in (author_phone, author_laptop):
        frames = await recv_types(comm, "postlike", "notification")
        assert unnumbered(frames["postlike"]) == expected
        assert frames["notification"]["kind"] == "like"
        assert frames["notification"]["data"] == {"postid": post.pk, "userid": dana.pk}
    for comm in (member, subscriber):
        assert unnumbered(await recv(comm)) == expected
    await nothing(author_phone, author_laptop, member, subscriber, outsider, liker)

    assert await like_via(entry, api, dana, post, liked=False, comm=liker) == {"postid": post.pk,
                                                                              "liked": False, "likes_count": 0}
    for comm in (author_phone, author_laptop, member, subscriber):
        assert unnumbered(await recv(comm)) == {**expected, "liked": False, "likes_count": 0}
    await nothing(author_phone, author_laptop, member, subscriber, outsider, liker)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("entry", ["rest", "frame"])
async def test_a_like_that_changes_nothing_relays_nothing(entry, api, alice, bob, dana, public_group, make_post,
                                                          connect):
    post = await call(make_post, alice, public_group)
    untouched = await call(make_post, alice, public_group)
    author, member, subscriber, liker = await connect(alice), await connect(bob), await connect(), await connect(dana)
    await subscribe(subscriber, f"post:{post.pk}")
    await subscribe(subscriber, f"post:{untouched.pk}")
    await like_via(entry, api, dana, post, comm=liker)
    await recv_types(author, "postlike", "notification")
    assert (await recv(member))["type"] == (await recv(subscriber))["type"] == "postlike"

    assert (await like_via(entry, api, dana, post, comm=liker))["likes_count"] == 1  # liking a liked post
    assert (await like_via(entry, api, dana, untouched, liked=False, comm=liker))["likes_count"] == 0
    await nothing(author, member, subscriber, liker)
    assert await call(likes_of, post) == (1, 1)
    assert await call(Notification.objects.count) == 1


@pytest.mark.django_db(transaction=True)
async def test_a_socket_in_several_audiences_gets_the_event_once(api, alice, bob, public_group, make_post,
                                                                 connect):
    post = await call(make_post, alice, public_group)
    author = await connect(alice)  # the author, a member of the post's group, and now a subscriber
    await subscribe(author, f"post:{post.pk}")
    await like_via("rest", api, bob, post)
    frames = await recv_types(author, "postlike", "notification")
    assert frames["postlike"]["likes_count"] == 1
    await nothing(author)


@pytest.mark.django_db(transaction=True)
async def test_a_private_post_like_reaches_members_only(api, alice, bob, charlie, private_group, make_post,
                                                       connect):
    post = await call(make_post, alice, private_group)
    author, member, outsider, anonymous = await connect(alice), await connect(bob), await connect(charlie), \
        await connect()
    relayed, _ = await relayed_and_ack(author, post)  # a self-like: no notification
    expected = {"identifier": "kirimin", "type": "postlike", "postid": post.pk, "userid": alice.pk,
                "liked": True, "likes_count": 1}
    assert unnumbered(relayed) == expected
    assert unnumbered(await recv(member)) == expected
    await nothing(author, member, outsider, anonymous)


@pytest.mark.django_db(transaction=True)
async def test_a_member_who_leaves_stops_receiving_a_private_posts_likes(alice, bob, private_group, make_post,
                                                                        connect):
    post = await call(make_post, alice, private_group)
    member = await connect(bob)
    await subscribe(member, f"post:{post.pk}")
    await call(leave_group, actor=bob, group=private_group)
    leave = await recv(member)
    assert leave["type"] == "leave", leave
    await settle()

    author = await connect(alice)
    await relayed_and_ack(author, post)
    await nothing(member)


@pytest.mark.django_db
def test_liking_again_after_an_unlike_does_not_notify_the_author_again(alice, bob, make_post):
    post = make_post(alice)
    for _ in range(3):
        like_post(actor=bob, post=post)
        like_post(actor=bob, post=post, liked=False)
    assert Notification.objects.filter(user=alice, kind="like").count() == 1
