"""The desk's "delete posts": relays `postdelete` to the post's author and subscribers.

What a delete relays however it is asked for is in tests/posts/actions/test_delete_post.py;
hiding a post from the desk in tests/moderation/test_hide_posts.py.
"""

import pytest

from moderation.models import ModerationLog
from posts.actions import create_post
from posts.models import Post
from tests.moderation.conftest import run_action
from tests.sockets import call, expect, nothing, send

pytestmark = pytest.mark.django_db(transaction=True)


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
