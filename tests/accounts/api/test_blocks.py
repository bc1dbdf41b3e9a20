"""Blocks (issue 23, item 1): `POST /api/blocks/`, `DELETE /api/blocks/{user_id}/`, `GET /api/blocks/`.

While alice blocks bob, nothing passes between them either way (direct messages, friend
requests, typing, presence, likes, the feed), and bob's messages in a group they share reach
alice marked `from_blocked`. Bob is never told; alice's own sockets get `block`. Everyone
else sees everything as before.
"""

import pytest

from accounts import actions
from accounts.models import Block, FriendRequest
from groups import messaging as group_messaging
from groups.presence import audiences, visible
from tests.conftest import err, group_with, ok, say
from tests.sockets import (
    call,
    expect,
    nothing,
    recv,
    recv_types,
    rest,
    send,
    unnumbered,
    user_shape,
)

pytestmark = pytest.mark.django_db

BLOCKS = "/api/blocks/"


def block(client, user):
    return client.post(BLOCKS, {"user_id": user.pk}, format="json")


def friends(a, b):
    request, _ = actions.send_friend_request(actor=a, target=b)
    actions.respond_to_friend_request(actor=b, request=request, accept=True)


# --- the endpoints ---------------------------------------------------------------------------------
def test_block_list_and_unblock(api, alice, bob, charlie):
    made = ok(block(api(alice), bob), 201)
    assert made["user"] == {"id": bob.pk, "username": "bob", "display_name": bob.display_name}
    assert ok(block(api(alice), bob), 200)["user"]["id"] == bob.pk  # again: nothing new
    ok(block(api(alice), charlie), 201)
    assert [row["user"]["id"] for row in ok(api(alice).get(BLOCKS))["results"]] == [charlie.pk, bob.pk]
    assert ok(api(bob).get(BLOCKS))["results"] == []  # bob's own list: he blocks nobody
    assert ok(api(alice).delete(f"{BLOCKS}{bob.pk}/")) == {"user_id": bob.pk, "changed": True}
    assert ok(api(alice).delete(f"{BLOCKS}{bob.pk}/")) == {"user_id": bob.pk, "changed": False}
    assert list(Block.objects.values_list("user_id", "blocked_id")) == [(alice.pk, charlie.pk)]


def test_bad_input_gets_a_clear_error(api, alice, anon):
    err(api(alice).post(BLOCKS, {"user_id": alice.pk}, format="json"), 400, "validation_error")
    err(api(alice).post(BLOCKS, {"user_id": 999999}, format="json"), 404, "not_found")
    err(api(alice).post(BLOCKS, {"user_id": "bob"}, format="json"), 400, "validation_error")
    err(api(alice).post(BLOCKS, {}, format="json"), 400, "validation_error")
    err(api(alice).delete(f"{BLOCKS}999999/"), 404, "not_found")
    err(anon.post(BLOCKS, {"user_id": alice.pk}, format="json"), 401, "not_authenticated")
    err(anon.get(BLOCKS), 401, "not_authenticated")
    assert not Block.objects.exists()


def test_blocking_ends_the_friendship_and_pending_requests_and_tells_only_the_blocker(
        api, alice, bob, charlie, capture_events):
    friends(alice, bob)
    actions.send_friend_request(actor=charlie, target=alice)
    with capture_events.capture():
        ok(block(api(alice), bob), 201)
        ok(block(api(alice), charlie), 201)
    assert not FriendRequest.objects.exists()
    assert ok(api(bob).get("/api/friends/"))["results"] == []
    assert [(e["users"], e["event"]) for e in capture_events] == [
        ([alice.pk], {"identifier": "kirimin", "type": "block", "user": user_shape(bob), "blocked": True,
                      "friendship_ended": True}),
        ([alice.pk], {"identifier": "kirimin", "type": "block", "user": user_shape(charlie), "blocked": True,
                      "friendship_ended": False}),
    ]
    with capture_events.capture():
        ok(api(alice).delete(f"{BLOCKS}{bob.pk}/"))
    assert capture_events[-1]["users"] == [alice.pk] and capture_events[-1]["event"]["blocked"] is False
    assert ok(api(bob).get("/api/friends/"))["results"] == []  # unblocking does not make them friends


# --- nothing passes between them, either way --------------------------------------------------------
@pytest.mark.parametrize("sender", ["blocker", "blocked"])
def test_direct_messages_and_friend_requests_are_refused_both_ways(api, alice, bob, charlie, sender):
    actions.block(actor=alice, target=bob)
    me, them = (alice, bob) if sender == "blocker" else (bob, alice)
    refused = err(api(me).post("/api/messages/", {"to": them.pk, "message": "hi"}, format="json"), 403, "forbidden")
    assert refused["details"] == {"reason": "blocked"}
    refused = err(api(me).post("/api/friends/requests/", {"to": them.pk}, format="json"), 403, "forbidden")
    assert refused["details"] == {"reason": "blocked"}
    # Everyone else as before.
    ok(api(me).post("/api/messages/", {"to": charlie.pk, "message": "hi"}, format="json"), 201)
    ok(api(me).post("/api/friends/requests/", {"to": charlie.pk}, format="json"), 201)


def test_a_request_sent_before_the_block_cannot_be_accepted_after_it(api, alice, bob):
    request, _ = actions.send_friend_request(actor=bob, target=alice)
    Block.objects.create(user=bob, blocked=alice)  # bob blocked alice (a row, as of a race)
    refused = err(api(alice).post(f"/api/friends/requests/{request.pk}/accept/"), 403, "forbidden")
    assert refused["details"] == {"reason": "blocked"}


def test_typing_and_likes_are_not_relayed_between_them(alice, bob, charlie, make_post, capture_events):
    group = group_with(alice, bob, charlie)
    post = make_post(alice, group=group)
    actions.block(actor=alice, target=bob)
    with capture_events.capture():
        group_messaging.relay_typing(actor=bob, group_id=group.pk)
        from posts.actions import like_post
        like_post(actor=bob, post=post)
        like_post(actor=charlie, post=post)
    (like_by_bob, like_by_charlie) = capture_events.of_type("postlike")
    assert like_by_bob["variants"] == {str(alice.pk): "x"}  # alice gets a `skip` in its place
    assert "variants" not in like_by_charlie
    from accounts.models import Notification
    assert Notification.objects.filter(user=alice, kind="like").count() == 1  # charlie's, not bob's
    with pytest.raises(actions.Blocked):
        group_messaging.relay_typing(actor=bob, to_id=alice.pk)


def test_presence_is_not_told_between_them(alice, bob, charlie):
    friends(alice, bob)
    friends(alice, charlie)
    group_with(charlie, alice, bob)
    actions.block(actor=bob, target=alice)
    heard = audiences([alice.pk, bob.pk])
    assert heard[alice.pk] == {charlie.pk} and heard[bob.pk] == {charlie.pk}
    assert visible(alice.pk, [bob.pk, charlie.pk]) == {charlie.pk}
    assert visible(bob.pk, [alice.pk, charlie.pk]) == {charlie.pk}


def test_each_drops_out_of_the_others_feed(api, alice, bob, charlie, make_post):
    make_post(alice, content="by alice")
    make_post(bob, content="by bob")
    make_post(charlie, content="by charlie")
    actions.block(actor=alice, target=bob)

    def feed(user):
        return sorted(p["content"] for p in ok(api(user).get("/api/posts/"))["results"])

    assert feed(alice) == ["by alice", "by charlie"]
    assert feed(bob) == ["by bob", "by charlie"]
    assert feed(charlie) == ["by alice", "by bob", "by charlie"]


def test_a_blocked_users_group_messages_do_not_count_as_unread(api, alice, bob, charlie):
    group = group_with(alice, bob, charlie)
    actions.block(actor=alice, target=bob)
    say(bob, "from bob", group=group)
    say(charlie, "from charlie", group=group)
    (row,) = ok(api(alice).get("/api/conversations/"))["results"]
    assert row["unread_count"] == 1
    (row,) = ok(api(charlie).get("/api/conversations/"))["results"]
    assert row["unread_count"] == 1  # bob's: charlie blocks nobody


# --- group messages reach the blocker marked, live and by every way back -------------------------------
@pytest.mark.django_db(transaction=True)
async def test_group_messages_reach_the_blocker_marked_live_on_resume_and_over_rest(
        aapi, connect, alice, bob, charlie):
    group = await call(group_with, alice, bob, charlie)
    await call(actions.block, actor=alice, target=bob)
    mine, theirs, other = await connect(alice), await connect(bob), await connect(charlie)
    start = mine.first["seq"]
    message = await call(say, bob, "hello all", group=group)
    got = await expect(mine, "sendmessage", id=message.pk)
    assert got["from_blocked"] is True and "muted" not in got
    for comm in (theirs, other):
        assert "from_blocked" not in await expect(comm, "sendmessage", id=message.pk)
    # The same on a resume and from GET /api/events/.
    again = await connect(alice, resume=start)
    assert (await expect(again, "sendmessage", id=message.pk))["from_blocked"] is True
    page = ok(await rest(await aapi(alice), "get", f"/api/events/?after={start}"))
    assert [e.get("from_blocked") for e in page["results"] if e["type"] == "sendmessage"] == [True]
    page = ok(await rest(await aapi(charlie), "get", f"/api/events/?after={start}"))
    assert [e.get("from_blocked") for e in page["results"] if e["type"] == "sendmessage"] == [None]
    # And in the group's history.
    history = ok(await rest(await aapi(alice), "get", f"/api/groups/{group.pk}/messages/"))["results"]
    assert [m.get("from_blocked") for m in history] == [True]
    history = ok(await rest(await aapi(charlie), "get", f"/api/groups/{group.pk}/messages/"))["results"]
    assert [m.get("from_blocked") for m in history] == [None]


@pytest.mark.django_db(transaction=True)
async def test_a_like_between_them_is_a_skip_that_keeps_the_offsets_whole(connect, alice, bob, charlie, make_post):
    group = await call(group_with, alice, bob, charlie)
    post = await call(make_post, alice, group=group)
    await call(actions.block, actor=bob, target=alice)  # bob blocks alice: alice is never told why
    mine, other = await connect(alice), await connect(charlie)
    from posts.actions import like_post
    await call(like_post, actor=bob, post=post)
    skip = await recv(mine)
    assert skip["type"] == "skip" and set(skip) == {"identifier", "type", "seq", "streams"}
    seen = await expect(other, "postlike", userid=bob.pk)
    assert skip["seq"] == seen["seq"] and skip["streams"][f"group:{group.pk}"] == seen["streams"][f"group:{group.pk}"]
    await nothing(mine, timeout=0.3)  # no notification of bob's like either
    await call(like_post, actor=charlie, post=post)
    got = await recv_types(mine, "notification", "postlike")
    assert got["postlike"]["userid"] == charlie.pk and got["postlike"]["seq"] > skip["seq"]


@pytest.mark.django_db(transaction=True)
async def test_the_blocked_user_is_refused_on_the_socket_and_never_told(connect, alice, bob):
    mine, theirs = await connect(alice), await connect(bob)
    await call(actions.block, actor=alice, target=bob)
    frame = unnumbered(await expect(mine, "block"))
    assert frame == {"identifier": "kirimin", "type": "block", "user": user_shape(bob), "blocked": True,
                     "friendship_ended": False}
    await send(theirs, "sendmessage", to=alice.pk, message="hi", ref="dm")
    refused = await expect(theirs, "error", code="forbidden", ref="dm")
    assert refused["details"] == {"reason": "blocked"}
    await send(theirs, "typing", to=alice.pk, ref="t")
    assert (await expect(theirs, "error", code="forbidden", ref="t"))["details"] == {"reason": "blocked"}
    await nothing(mine, timeout=0.5)


def test_a_shared_groups_member_list_does_not_show_a_block_partners_presence(api, alice, bob, charlie):
    group = group_with(alice, bob, charlie)
    actions.block(actor=bob, target=alice)
    from accounts.models import User
    User.objects.filter(pk__in=[alice.pk, bob.pk, charlie.pk]).update(online=True)

    def presence_seen_by(user):
        rows = ok(api(user).get(f"/api/groups/{group.pk}/members/"))["results"]
        return {row["user"]["id"]: (row["online"], row["last_seen"]) for row in rows}

    seen = presence_seen_by(alice)
    assert seen[bob.pk] == (False, None) and seen[charlie.pk][0] is not None
    assert presence_seen_by(bob)[alice.pk] == (False, None)
    assert presence_seen_by(charlie)[alice.pk] == presence_seen_by(charlie)[alice.pk]  # charlie sees both as before


def test_old_direct_messages_cannot_be_edited_or_reacted_to_across_a_block(api, alice, bob):
    message = say(bob, "before", to=alice)
    actions.block(actor=alice, target=bob)
    refused = err(api(bob).patch(f"/api/messages/{message.pk}/", {"message": "after"}, format="json"), 403, "forbidden")
    assert refused["details"] == {"reason": "blocked"}
    refused = err(api(alice).post(f"/api/messages/{message.pk}/reactions/", {"emoji": "👍"}, format="json"), 403,
                  "forbidden")
    assert refused["details"] == {"reason": "blocked"}
