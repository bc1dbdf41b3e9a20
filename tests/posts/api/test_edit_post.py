"""`PATCH /api/posts/{id}/` (SPEC §4): only the author edits; bad content changes nothing; PUT
is refused.

Creating and deleting a post have their own files (tests/posts/api/test_create_post.py and
test_delete_post.py).
"""

import pytest

from tests.conftest import err, ok
from tests.posts.conftest import detail

pytestmark = pytest.mark.django_db


def test_the_author_edits_a_post(api, alice, make_post):
    post = make_post(alice, content="before")
    data = ok(api(alice).patch(detail(post), {"content": "after"}, format="json"))
    assert data["content"] == "after" and data["id"] == post.pk
    post.refresh_from_db()
    assert post.content == "after"


def test_only_the_author_edits(api, alice, bob, charlie, make_user, public_group, make_post):
    post = make_post(bob, public_group, content="mine")
    staff = make_user("staff", is_staff=True)
    for other in (alice, charlie, staff):  # the group's owner and staff may delete, not edit
        err(api(other).patch(detail(post), {"content": "theirs"}, format="json"), 403, "forbidden")
    post.refresh_from_db()
    assert post.content == "mine"


def test_an_edit_with_bad_content_changes_nothing(api, alice, make_post):
    post = make_post(alice, content="before")
    err(api(alice).patch(detail(post), {"content": ""}, format="json"), 400, "validation_error")
    err(api(alice).patch(detail(post), {}, format="json"), 400, "validation_error")
    post.refresh_from_db()
    assert post.content == "before"


def test_put_is_not_allowed(api, alice, make_post):
    post = make_post(alice)
    response = api(alice).put(detail(post), {"content": "x"}, format="json")
    assert response.status_code == 405
