"""The desk's "hide posts" and "show posts again": hiding relays `postdelete` to the post's
audience; showing it again relays nothing.

The desk's other actions on posts, messages and groups have a file each:
tests/moderation/test_delete_posts.py, test_delete_messages.py, test_delete_groups.py.
"""

import pytest

from moderation.models import ModerationLog
from posts.actions import create_post
from posts.models import Post
from tests.conftest import err, group_with, ok
from tests.moderation.conftest import run_action
from tests.sockets import call, expect, nothing

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
