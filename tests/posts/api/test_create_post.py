"""`POST /api/posts/` (SPEC §4): a public post or a group's, who may post where, validation.

Editing and deleting a post have their own files (tests/posts/api/test_edit_post.py and
test_delete_post.py); the feed (`GET /api/posts/`) and who may see which post are in
tests/posts/test_posts_api.py, with the authentication every post endpoint needs.
"""

import pytest

from posts.models import Post
from tests.conftest import err, ok
from tests.posts.conftest import FEED

pytestmark = pytest.mark.django_db


def test_it_creates_a_public_post(api, alice):
    data = ok(api(alice).post(FEED, {"content": "first!"}, format="json"), 201)

    post = Post.objects.get()
    assert data["id"] == post.pk and post.author == alice and post.group is None
    assert data["author"] == {"id": alice.pk, "username": "alice", "display_name": "Alice"}
    assert data["content"] == "first!" and data["group_id"] is None
    assert data["likes_count"] == 0 and data["liked_by_me"] is False
    assert data["created_at"].endswith("Z")


def test_a_member_posts_in_a_group_by_numeric_string_id(api, bob, public_group, private_group):
    for group in (public_group, private_group):
        data = ok(api(bob).post(FEED, {"content": "hi", "group_id": str(group.pk)}, format="json"), 201)
        assert data["group_id"] == group.pk
    assert Post.objects.filter(author=bob).count() == 2


def test_it_rejects_a_non_member_posting_in_a_public_group(api, charlie, public_group):
    err(api(charlie).post(FEED, {"content": "hi", "group_id": public_group.pk}, format="json"), 403, "forbidden")
    assert not Post.objects.exists()


def test_a_private_group_is_not_found_for_a_non_member(api, charlie, private_group):
    body = err(api(charlie).post(FEED, {"content": "hi", "group_id": private_group.pk}, format="json"),
               404, "not_found")
    assert body["details"] == {"group_id": ["No such group."]}
    err(api(charlie).post(FEED, {"content": "hi", "group_id": 987654}, format="json"), 404, "not_found")
    assert not Post.objects.exists()


@pytest.mark.parametrize("body", [
    {},
    {"content": ""},
    {"content": "   "},
    {"content": "x" * 10001},
    {"content": "hi", "group_id": "abc"},
    {"content": "hi", "group_id": 0},
    {"content": "hi", "group_id": True},
    {"content": "hi", "group_id": 2**63},
])
def test_it_rejects_bad_input_without_creating(api, alice, body):
    body = err(api(alice).post(FEED, body, format="json"), 400, "validation_error")
    assert body["details"]
    assert not Post.objects.exists()
