"""The `postlike` frame (SPEC §6): does what REST does, is refused as REST is, and likes as
the socket's user, whatever the frame claims.

What a like relays is in tests/posts/actions/test_like_post.py (through REST and through this
frame); the REST endpoint in tests/posts/api/test_like.py; the frame's validation is with
every frame's, in tests/relay/test_frames.py.
"""

import pytest

from accounts.models import Notification
from posts import actions as post_actions
from posts.models import Like
from tests.conftest import likes_of
from tests.sockets import IDENTIFIER, call, nothing, recv, recv_types, send

pytestmark = pytest.mark.django_db(transaction=True)


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
    await send(comm, "postlike", postid="abc", ref="s")
    frame = await recv(comm)
    assert (frame["type"], frame["code"], frame["ref"]) == ("error", "not_found", "s"), frame
    for bad in ({}, {"postid": 0}, {"postid": public.pk, "liked": "maybe"}):
        await send(comm, "postlike", **bad)
        frame = await recv(comm)
        assert frame["type"] == "error" and frame["code"] == "invalid_frame" and frame["details"], frame
    assert await call(Like.objects.count) == 0


async def test_spoofed_userid_is_ignored_in_postlike(connect, alice, bob, charlie):
    post = await call(post_actions.create_post, actor=alice, content="hello")
    author = await connect(alice)
    comm = await connect(bob)
    await send(comm, "postlike", postid=post.pk, userid=charlie.pk, ref="l")
    ack = await recv(comm)
    assert ack == {"identifier": IDENTIFIER, "type": "ack", "ref": "l", "postid": post.pk, "liked": True,
                   "likes_count": 1}
    frames = await recv_types(author, "postlike", "notification")
    assert frames["postlike"]["userid"] == bob.pk
