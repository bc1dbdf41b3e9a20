"""`posts.actions.like_post`: what a like or an unlike relays and to whom (the author, the post's
channel, its group's members), whichever way it is asked for; and what it notifies.

The REST endpoint has its own file (tests/posts/api/test_like.py), so has the `postlike`
frame (tests/relay/frames/test_postlike.py).
"""

import pytest

from accounts.models import Notification
from groups.actions import leave_group
from posts.actions import create_post, like_post
from tests.conftest import like_url, likes_of, ok
from tests.sockets import (
    call,
    expect,
    nothing,
    recv,
    recv_types,
    rest,
    send,
    settle,
    subscribe,
    unnumbered,
)

pytestmark = pytest.mark.django_db


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


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("via", ["rest", "frame"])
async def test_a_like_sends_the_author_a_live_notification(aapi, connect, alice, bob, charlie, via):
    post = await call(create_post, actor=alice, content="like me")
    author, liker, other = await connect(alice), await connect(bob), await connect(charlie)
    if via == "rest":
        ok(await rest(await aapi(bob), "post", like_url(post)))
    else:
        await send(liker, "postlike", postid=post.pk, ref="l")
        await expect(liker, "ack", ref="l", liked=True, likes_count=1)

    frames = await recv_types(author, "postlike", "notification")
    note = await call(Notification.objects.get, user=alice)
    assert unnumbered(frames["notification"]) == {"identifier": "kirimin", "type": "notification", "id": note.pk,
                                      "kind": "like", "message": note.message,
                                      "data": {"postid": post.pk, "userid": bob.pk}}
    await nothing(author, liker, other)

    # Liking again changes nothing and notifies nobody.
    await call(like_post, actor=bob, post=post)
    await nothing(author, liker, other)
    assert await call(Notification.objects.count) == 1
