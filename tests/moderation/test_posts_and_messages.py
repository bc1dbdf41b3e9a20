"""Hiding or deleting a post relays `postdelete`; deleting a message relays `deletemessage` to those who could see it."""

import pytest

from groups.actions import send_message
from groups.models import Message
from moderation.models import ModerationLog
from posts.actions import create_post
from posts.models import Post
from tests.conftest import err, group_with, ok
from tests.moderation.conftest import run_action
from tests.sockets import call, expect, nothing, send

pytestmark = pytest.mark.django_db(transaction=True)


async def test_hiding_a_group_post_relays_postdelete_to_its_audience(desk, moderator, alice, bob, charlie,
                                                                     api, connect):
    group = await call(group_with, alice, bob)
    post = await call(create_post, actor=bob, content="buy my stuff", group=group)
    alice_socket, bob_socket, charlie_socket = await connect(alice), await connect(bob), await connect(charlie)

    await call(run_action, desk, "posts.post", "hide_posts", [post], "Advertising.")

    for comm in (alice_socket, bob_socket):  # the group, and the author
        await expect(comm, "postdelete", postid=post.pk, groupid=group.pk)
    await nothing(alice_socket, bob_socket, charlie_socket)
    assert (await Post.objects.aget(pk=post.pk)).is_hidden
    alice_api = await call(api, alice)
    err(await call(alice_api.get, f"/api/posts/{post.pk}/"), 404, "not_found")
    feed = ok(await call(alice_api.get, "/api/posts/"))
    assert post.pk not in [p["id"] for p in feed["results"]]
    entry = await ModerationLog.objects.aget()
    assert (entry.action, entry.target_type, entry.target_id, entry.reason) == (
        "hide_post", "post", post.pk, "Advertising.")
    assert "buy my stuff" in entry.target_repr


async def test_showing_a_hidden_post_again_relays_nothing(desk, alice, bob, connect):
    post = await call(create_post, actor=bob, content="fine after all")
    await call(run_action, desk, "posts.post", "hide_posts", [post])
    bob_socket = await connect(bob)
    await call(run_action, desk, "posts.post", "unhide_posts", [post], "Appeal accepted.")
    await nothing(bob_socket)
    assert not (await Post.objects.aget(pk=post.pk)).is_hidden
    assert [e.action async for e in ModerationLog.objects.order_by("id")] == ["hide_post", "unhide_post"]


async def test_deleting_a_public_post_relays_postdelete_to_author_and_subscribers(desk, alice, bob, charlie,
                                                                                  connect):
    post = await call(create_post, actor=bob, content="rude")
    bob_socket, alice_socket, charlie_socket = await connect(bob), await connect(alice), await connect(charlie)
    await send(alice_socket, "subscribe", channel=f"post:{post.pk}", ref="s")
    assert (await expect(alice_socket, "ack"))["ref"] == "s"

    await call(run_action, desk, "posts.post", "delete_posts", [post], "Insults.")

    await expect(bob_socket, "postdelete", postid=post.pk, groupid=None)
    await expect(alice_socket, "postdelete", postid=post.pk, groupid=None)
    await nothing(bob_socket, alice_socket, charlie_socket)
    assert not await Post.objects.filter(pk=post.pk).aexists()
    entry = await ModerationLog.objects.aget()
    assert (entry.action, entry.target_id, entry.reason) == ("delete_post", post.pk, "Insults.")


async def test_deleting_a_group_message_relays_deletemessage_to_the_members_only(desk, alice, bob, charlie,
                                                                                 connect):
    group = await call(group_with, alice, bob)
    message = await call(send_message, actor=bob, body="spam spam", group_id=group.pk)
    alice_socket, bob_socket, charlie_socket = await connect(alice), await connect(bob), await connect(charlie)

    await call(run_action, desk, "groups.message", "delete_messages", [message], "Spam.")

    for comm in (alice_socket, bob_socket):
        await expect(comm, "deletemessage", id=message.pk, groupid=group.pk)
    await nothing(alice_socket, bob_socket, charlie_socket)
    assert not await Message.objects.filter(pk=message.pk).aexists()
    entry = await ModerationLog.objects.aget()
    assert (entry.action, entry.target_type, entry.target_id, entry.reason) == (
        "delete_message", "message", message.pk, "Spam.")
    assert entry.details == {"groupid": group.pk} and "spam spam" in entry.target_repr


async def test_deleting_a_direct_message_relays_deletemessage_to_both_users_only(desk, alice, bob, charlie,
                                                                                 connect):
    message = await call(send_message, actor=alice, body="threat", to_id=bob.pk)
    alice_socket, bob_socket, charlie_socket = await connect(alice), await connect(bob), await connect(charlie)

    await call(run_action, desk, "groups.message", "delete_messages", [message], "Threats.")

    for comm in (alice_socket, bob_socket):
        await expect(comm, "deletemessage", id=message.pk)
    await nothing(alice_socket, bob_socket, charlie_socket)
    assert not await Message.objects.filter(pk=message.pk).aexists()
    assert (await ModerationLog.objects.aget()).details == {"to": bob.pk}


async def test_deleting_a_group_from_the_desk_is_audited_and_takes_its_members_sockets_off_it(
        superdesk, alice, bob, charlie, connect):
    from groups.models import Group

    group = await call(group_with, alice, bob)
    bob_socket = await connect(bob)
    await call(run_action, superdesk, "groups.group", "delete_groups", [group], "Coordinated spam.")
    assert not await Group.objects.filter(pk=group.pk).aexists()
    entry = await ModerationLog.objects.aget()
    assert (entry.action, entry.target_type, entry.target_id, entry.reason) == (
        "delete_group", "group", group.pk, "Coordinated spam.")
    await send(bob_socket, "sendmessage", groupid=group.pk, message="still here?", ref="m")
    assert (await expect(bob_socket, "error"))["code"] == "not_found"
