"""`DELETE /api/posts/{id}/` (SPEC §4): who may delete a post (its author, its group's owner
and admins, staff with the desk's permission, with an audit row), and who may not.

What a delete relays, and to whom, is in tests/posts/actions/test_delete_post.py; the desk's
own deletion in tests/moderation/test_delete_posts.py.
"""

import pytest

from groups.actions import add_member, set_role
from groups.models import Role
from posts.models import Post
from tests.conftest import err, group_with, ok
from tests.posts.conftest import detail

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana(make_user, public_group, alice):
    """An admin of the public group."""
    user = make_user("dana", display_name="Dana")
    add_member(actor=alice, group=public_group, target=user)
    set_role(actor=alice, group=public_group, target=user, role=Role.ADMIN)
    return user


@pytest.mark.parametrize("deleter", ["author", "owner", "admin", "staff"])
def test_who_may_delete_a_group_post(api, bob, alice, dana, make_user, public_group, make_post, deleter):
    post = make_post(bob, public_group)
    actor = {"author": bob, "owner": alice, "admin": dana,
             "staff": make_user("staff", is_staff=True, perms=["posts.delete_post"])}[deleter]
    assert ok(api(actor).delete(detail(post))) is None
    assert not Post.objects.filter(pk=post.pk).exists()
    err(api(bob).get(detail(post)), 404, "not_found")


def test_staff_delete_a_public_post_through_the_desk_with_an_audit_row(api, alice, make_user, make_post):
    from moderation.models import ModerationLog

    post = make_post(alice)
    moderator = make_user("mod", is_staff=True, perms=["posts.delete_post"])
    ok(api(moderator).delete(detail(post), {"reason": "spam"}, format="json"))
    assert not Post.objects.exists()
    entry = ModerationLog.objects.get()
    assert (entry.moderator, entry.action, entry.target_id, entry.reason) == (moderator, "delete_post", post.pk, "spam")


def test_staff_without_the_permission_may_not_delete_a_post(api, alice, make_user, make_post):
    """Being staff is not a permission: the desk's own check applies to REST too."""
    from moderation.models import ModerationLog

    post = make_post(alice)
    err(api(make_user("intern", is_staff=True)).delete(detail(post)), 403, "forbidden")
    assert Post.objects.filter(pk=post.pk).exists() and not ModerationLog.objects.exists()


def test_others_may_not_delete(api, alice, bob, charlie, dana, make_user, public_group, make_post):
    group_post = make_post(alice, public_group)
    public_post = make_post(alice)
    other_group = group_with(charlie, name="elsewhere")
    other_post = make_post(charlie, other_group)
    err(api(bob).delete(detail(group_post)), 403, "forbidden")  # a plain member
    err(api(charlie).delete(detail(group_post)), 403, "forbidden")  # an outsider
    err(api(bob).delete(detail(public_post)), 403, "forbidden")
    err(api(dana).delete(detail(public_post)), 403, "forbidden")  # a group admin, but not this post's group
    err(api(alice).delete(detail(other_post)), 403, "forbidden")  # owner of another group
    assert Post.objects.count() == 3


def test_deleting_a_private_post_is_not_found_for_outsiders(api, alice, charlie, private_group, make_post):
    post = make_post(alice, private_group)
    err(api(charlie).delete(detail(post)), 404, "not_found")
    assert Post.objects.filter(pk=post.pk).exists()
