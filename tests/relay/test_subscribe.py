"""`subscribe` / `unsubscribe` (SPEC §6): public posts for anyone, groups only for those who may see them."""

import pytest

from groups import actions as group_actions
from groups import messaging as group_messaging
from posts import actions as post_actions
from tests.sockets import call, error_of, nothing, recv, recv_types, send, subscribe, unnumbered

pytestmark = pytest.mark.django_db(transaction=True)


def run(fn, **kwargs):
    return call(fn, **kwargs)


async def unsubscribe(comm, channel, ref="unsub"):
    await send(comm, "unsubscribe", channel=channel, ref=ref)
    assert await recv(comm) == {"identifier": "kirimin", "type": "ack", "ref": ref, "unsubscribed": channel}


async def test_anonymous_subscriber_of_a_public_post_receives_its_likes(connect, alice, bob):
    post = await run(post_actions.create_post, actor=alice, content="public")
    anonymous = await connect()
    await subscribe(anonymous, f"post:{post.pk}")
    await run(post_actions.like_post, actor=bob, post=post)
    assert unnumbered(await recv(anonymous)) == {"identifier": "kirimin", "type": "postlike", "postid": post.pk,
                                     "userid": bob.pk, "liked": True, "likes_count": 1}
    await run(post_actions.like_post, actor=bob, post=post, liked=False)
    assert (await recv(anonymous))["likes_count"] == 0


async def test_subscriber_does_not_receive_other_posts_likes(connect, alice, bob):
    watched = await run(post_actions.create_post, actor=alice, content="watched")
    other = await run(post_actions.create_post, actor=alice, content="other")
    anonymous = await connect()
    await subscribe(anonymous, f"post:{watched.pk}")
    await run(post_actions.like_post, actor=bob, post=other)
    await nothing(anonymous)


async def test_no_op_like_relays_nothing_to_subscribers(connect, alice, bob):
    post = await run(post_actions.create_post, actor=alice, content="public")
    await run(post_actions.like_post, actor=bob, post=post)
    anonymous = await connect()
    await subscribe(anonymous, f"post:{post.pk}")
    await run(post_actions.like_post, actor=bob, post=post)  # liked already
    await nothing(anonymous)


async def test_post_deletion_reaches_subscribers(connect, alice):
    post = await run(post_actions.create_post, actor=alice, content="short-lived")
    post_id = post.pk
    anonymous = await connect()
    await subscribe(anonymous, f"post:{post_id}")
    await run(post_actions.delete_post, actor=alice, post=post)
    assert unnumbered(await recv(anonymous)) == {"identifier": "kirimin", "type": "postdelete", "postid": post_id,
                                       "groupid": None}


async def test_like_by_frame_reaches_subscribers_and_the_author(connect, alice, bob):
    post = await run(post_actions.create_post, actor=alice, content="public")
    author, liker, anonymous = await connect(alice), await connect(bob), await connect()
    await subscribe(anonymous, f"post:{post.pk}")
    await send(liker, "postlike", postid=post.pk, ref="like")
    assert (await recv(liker))["type"] == "ack"
    assert (await recv(anonymous))["userid"] == bob.pk
    frames = await recv_types(author, "postlike", "notification")
    assert frames["notification"]["kind"] == "like"
    await nothing(liker)  # not the author, not subscribed


async def test_post_in_a_private_group_is_not_found_for_outsiders(connect, secret, alice, charlie):
    post = await run(post_actions.create_post, actor=alice, content="members only", group=secret)
    for comm in (await connect(charlie), await connect()):
        await send(comm, "subscribe", channel=f"post:{post.pk}", ref="peek")
        await error_of(comm, "not_found", ref="peek")


async def test_post_in_a_private_group_is_open_to_members(connect, secret, alice, bob):
    post = await run(post_actions.create_post, actor=alice, content="members only", group=secret)
    member = await connect(bob)
    await subscribe(member, f"post:{post.pk}")


async def test_private_group_channel_is_not_found_for_outsiders(connect, secret, alice, charlie):
    for comm in (await connect(charlie), await connect()):
        await send(comm, "subscribe", channel=f"group:{secret.pk}", ref="peek")
        await error_of(comm, "not_found", ref="peek")
    outsider = await connect(charlie)
    await run(group_messaging.send_message, actor=alice, body="secret plans", group_id=secret.pk)
    await nothing(outsider)


async def test_missing_channel_is_not_found(connect, charlie):
    comm = await connect(charlie)
    for channel in ("group:999999", "post:999999"):
        await send(comm, "subscribe", channel=channel, ref="gone")
        await error_of(comm, "not_found", ref="gone")


async def test_outsider_subscribed_to_a_public_group_receives_its_messages(connect, alice, charlie):
    group = await run(group_actions.create_group, actor=alice, name="Open")
    watcher = await connect(charlie)
    await subscribe(watcher, f"group:{group.pk}")
    await run(group_messaging.send_message, actor=alice, body="hello world", group_id=group.pk)
    assert (await recv(watcher))["message"] == "hello world"


async def test_unsubscribe_stops_delivery(connect, alice, bob):
    post = await run(post_actions.create_post, actor=alice, content="public")
    leaving, staying = await connect(), await connect()
    await subscribe(leaving, f"post:{post.pk}")
    await subscribe(staying, f"post:{post.pk}")
    await unsubscribe(leaving, f"post:{post.pk}")
    await run(post_actions.like_post, actor=bob, post=post)
    assert (await recv(staying))["type"] == "postlike"
    await nothing(leaving)


async def test_unsubscribe_from_a_group_channel_stops_an_outsider(connect, alice, charlie):
    group = await run(group_actions.create_group, actor=alice, name="Open")
    owner, watcher = await connect(alice), await connect(charlie)
    await subscribe(watcher, f"group:{group.pk}")
    await unsubscribe(watcher, f"group:{group.pk}")
    await run(group_messaging.send_message, actor=alice, body="anyone?", group_id=group.pk)
    assert (await recv(owner))["message"] == "anyone?"
    await nothing(watcher)


async def test_member_who_unsubscribes_from_the_group_still_gets_its_messages(connect, secret, alice, bob):
    member = await connect(bob)
    await subscribe(member, f"group:{secret.pk}")
    await unsubscribe(member, f"group:{secret.pk}")
    await run(group_messaging.send_message, actor=alice, body="membership wins", group_id=secret.pk)
    assert (await recv(member))["message"] == "membership wins"


async def test_unsubscribing_what_was_never_subscribed_is_harmless(connect):
    comm = await connect()
    await unsubscribe(comm, "post:12345")


async def test_members_of_the_posts_group_receive_its_likes_unsubscribed(connect, secret, alice, bob, charlie):
    post = await run(post_actions.create_post, actor=alice, content="members only", group=secret)
    member, outsider = await connect(bob), await connect(charlie)
    await run(post_actions.like_post, actor=alice, post=post)  # the author's own like: no notification
    assert (await recv(member))["postid"] == post.pk
    await nothing(outsider)




@pytest.mark.parametrize("kind", ["post", "group", "presence"])
async def test_an_id_past_the_largest_the_database_holds_is_not_found(connect, alice, kind):
    comm = await connect(alice)
    await send(comm, "subscribe", channel=f"{kind}:9223372036854775808", ref="big")
    assert (await error_of(comm, "not_found", ref="big"))["code"] == "not_found"
