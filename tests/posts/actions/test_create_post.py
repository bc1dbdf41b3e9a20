"""`postcreate` (issue 23, item 5): a new post reaches those who may see it, live, and nobody
else. A group's post: its members. A public post: its author's friends and the sockets
subscribed to the `feed` channel (anyone may subscribe, signed in or not), except users who
block the author or whom the author blocks (they get a `skip` in its place)."""

import pytest

from accounts import actions as accounts_actions
from posts.actions import create_post
from tests.conftest import group_with, ok
from tests.sockets import (
    call,
    error_of,
    expect,
    nothing,
    recv,
    rest,
    send,
    subscribe,
    user_shape,
)

pytestmark = pytest.mark.django_db


def befriend(a, b):
    request, _ = accounts_actions.send_friend_request(actor=a, target=b)
    accounts_actions.respond_to_friend_request(actor=b, request=request, accept=True)


def test_a_group_post_goes_to_the_group_and_a_public_one_to_friends_and_the_feed(
        alice, bob, charlie, capture_events):
    group = group_with(alice, bob)
    befriend(alice, charlie)
    with capture_events.capture():
        in_group = create_post(actor=alice, content="for the group", group=group)
        public = create_post(actor=alice, content="for everyone")
    (to_group, to_friends, to_feed) = capture_events.of_type("postcreate")
    assert (to_group["users"], to_group["groups"], to_group["channels"]) == ([alice.pk], [group.pk], [])
    assert to_group["event"] == {"identifier": "kirimin", "type": "postcreate", "postid": in_group.pk,
                                 "groupid": group.pk, "author": user_shape(alice), "content": "for the group",
                                 "created_at": to_group["event"]["created_at"]}
    # Two entries for a public post: the feed's (anyone may follow it) must not name the friends' streams.
    assert (to_friends["users"], to_friends["groups"], to_friends["channels"]) == (sorted([alice.pk, charlie.pk]), [], [])
    assert (to_feed["users"], to_feed["groups"], to_feed["channels"]) == ([], [], ["feed"])
    assert to_friends["event"] == to_feed["event"]
    assert to_feed["event"]["postid"] == public.pk and to_feed["event"]["groupid"] is None


@pytest.mark.django_db(transaction=True)
async def test_who_gets_a_new_post_live_and_who_does_not(aapi, connect, alice, bob, charlie, make_user):
    dave, erin = await call(make_user, "dave"), await call(make_user, "erin")
    group = await call(group_with, alice, bob, private=True)
    await call(befriend, alice, charlie)
    await call(accounts_actions.block, actor=erin, target=alice)
    member, friend, stranger, blocker = await connect(bob), await connect(charlie), await connect(dave), await connect(erin)
    anonymous = await connect()
    for comm in (stranger, blocker, anonymous):
        await subscribe(comm, "feed")

    post = ok(await rest(await aapi(alice), "post", "/api/posts/", {"content": "secret plans", "group_id": group.pk}),
              201)
    assert (await expect(member, "postcreate"))["postid"] == post["id"]
    public = ok(await rest(await aapi(alice), "post", "/api/posts/", {"content": "hello world"}), 201)
    for comm in (friend, stranger, anonymous):
        got = await expect(comm, "postcreate")
        assert got["postid"] == public["id"] and got["content"] == "hello world"
        # Nobody learns from a frame which streams it went to beyond their own.
        assert set(got["streams"]) == ({f"user:{charlie.pk}"} if comm is friend else {"feed"})
    skip = await recv(blocker)
    assert skip["type"] == "skip" and "feed" in skip["streams"]
    await nothing(member, stranger, anonymous, friend, timeout=0.3)  # bob: no friend of alice's, no `feed`


@pytest.mark.django_db(transaction=True)
async def test_only_known_channels_may_be_subscribed(connect, alice):
    comm = await connect(alice)
    await send(comm, "subscribe", channel="feeds", ref="bad")
    await error_of(comm, "invalid_frame", ref="bad")


def test_a_group_post_is_a_skip_for_the_authors_block_partners(alice, bob, charlie, capture_events):
    group = group_with(alice, bob, charlie)
    accounts_actions.block(actor=charlie, target=alice)
    with capture_events.capture():
        create_post(actor=alice, content="team news", group=group)
    (entry,) = capture_events.of_type("postcreate")
    assert entry["variants"] == {str(charlie.pk): "x"}
