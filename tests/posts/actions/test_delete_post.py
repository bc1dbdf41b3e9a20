"""`posts.actions.delete_post`: a delete relays `postdelete` {postid, groupid} to the post's
audience, and only to it, whoever deletes it and however.

Who may delete a post over REST is in tests/posts/api/test_delete_post.py; the desk's own
deletion in tests/moderation/test_delete_posts.py.
"""

import pytest

from config.errors import NotFound
from groups.actions import add_member, leave_group
from posts.actions import delete_post
from posts.models import Post
from tests.conftest import err, ok
from tests.sockets import call, nothing, recv, send, settle, subscribe, unnumbered

pytestmark = pytest.mark.django_db


def postdelete(post, group=None):
    return {"identifier": "kirimin", "type": "postdelete", "postid": post.pk,
            "groupid": group.pk if group else None}


async def delete_via_rest(api, user, post, status=200, code=None):
    client = await call(api, user)  # minting the JWT writes to the database
    response = await call(client.delete, f"/api/posts/{post.pk}/")
    return ok(response, status) if code is None else err(response, status, code)


def test_a_delete_relays_to_the_author_the_post_channel_and_the_group(alice, bob, public_group, make_post,
                                                                      capture_events):
    post = make_post(bob, public_group)
    post_id = post.pk
    with capture_events.capture():
        delete_post(actor=alice, post=post)
    [sent] = capture_events
    assert sent["event"] == {"identifier": "kirimin", "type": "postdelete", "postid": post_id,
                             "groupid": public_group.pk}
    assert (sent["users"], sent["channels"], sent["groups"]) == ([bob.pk], [f"post:{post_id}"], [public_group.pk])
    assert not Post.objects.filter(pk=post_id).exists()


def test_a_refused_delete_relays_nothing(api, alice, bob, public_group, make_post, capture_events):
    post = make_post(alice, public_group)
    with capture_events.capture():
        err(api(bob).delete(f"/api/posts/{post.pk}/"), 403, "forbidden")
    assert capture_events == []
    assert Post.objects.filter(pk=post.pk).exists()


def test_deleting_a_post_already_deleted_is_not_found_and_relays_nothing(alice, make_post, capture_events):
    post = make_post(alice)
    stale = Post.objects.get(pk=post.pk)  # a second request's copy, fetched before the first delete
    delete_post(actor=alice, post=post)
    with capture_events.capture(), pytest.raises(NotFound):
        delete_post(actor=alice, post=stale)
    assert capture_events == []


@pytest.mark.django_db(transaction=True)
async def test_a_group_post_delete_reaches_author_subscribers_and_members(api, alice, bob, charlie, make_user,
                                                                          public_group, make_post, connect):
    post, other = await call(make_post, bob, public_group), await call(make_post, bob)
    author, owner, subscriber, outsider = await connect(bob), await connect(alice), await connect(), \
        await connect(charlie)
    await subscribe(subscriber, f"post:{post.pk}")
    other_subscriber = await connect()
    await subscribe(other_subscriber, f"post:{other.pk}")

    assert await delete_via_rest(api, alice, post) is None  # the group's owner deletes bob's post
    for comm in (author, owner, subscriber):
        assert unnumbered(await recv(comm)) == postdelete(post, public_group)
    await nothing(author, owner, subscriber, outsider, other_subscriber)


@pytest.mark.django_db(transaction=True)
async def test_a_public_post_delete_by_staff_reaches_author_and_subscribers(api, alice, bob, charlie, make_user,
                                                                            make_post, connect):
    post = await call(make_post, alice)
    staff = await call(make_user, "staff", is_staff=True, perms=["posts.delete_post"])
    author, subscriber, outsider, moderator = await connect(alice), await connect(bob), await connect(charlie), \
        await connect(staff)
    await subscribe(subscriber, f"post:{post.pk}")

    await delete_via_rest(api, staff, post)
    for comm in (author, subscriber):
        assert unnumbered(await recv(comm)) == postdelete(post)
    await nothing(author, subscriber, outsider, moderator)

    # The post is gone for everyone, sockets included.
    await send(outsider, "subscribe", channel=f"post:{post.pk}")
    assert (await recv(outsider))["code"] == "not_found"
    await send(subscriber, "postlike", postid=post.pk)
    assert (await recv(subscriber))["code"] == "not_found"


@pytest.mark.django_db(transaction=True)
async def test_a_private_post_delete_reaches_members_only(api, alice, bob, charlie, make_user, private_group,
                                                          make_post, connect):
    post = await call(make_post, alice, private_group)
    leaver = await call(make_user, "erin")
    await call(add_member, actor=alice, group=private_group, target=leaver)
    author, member, outsider, anonymous = await connect(alice), await connect(bob), await connect(charlie), \
        await connect()
    gone = await connect(leaver)
    await subscribe(gone, f"post:{post.pk}")
    await call(leave_group, actor=leaver, group=private_group)
    for comm in (author, member, gone):
        assert (await recv(comm))["type"] == "leave"
    await settle()

    await delete_via_rest(api, alice, post)
    for comm in (author, member):
        assert unnumbered(await recv(comm)) == postdelete(post, private_group)
    await nothing(author, member, outsider, anonymous, gone)


@pytest.mark.django_db(transaction=True)
async def test_a_refused_delete_reaches_nobody(api, alice, bob, charlie, public_group, make_post, connect):
    post = await call(make_post, alice, public_group)
    author, member, subscriber = await connect(alice), await connect(bob), await connect()
    await subscribe(subscriber, f"post:{post.pk}")
    await delete_via_rest(api, charlie, post, 403, "forbidden")
    await delete_via_rest(api, bob, post, 403, "forbidden")
    await nothing(author, member, subscriber)
    assert await call(Post.objects.filter(pk=post.pk).exists)
