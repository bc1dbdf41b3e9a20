"""Posts test helpers.

The scene (alice, bob, charlie, `public_group`, `private_group`, and `make_post`,
which writes a post through `posts.actions.create_post`) and the likes' helpers
(`like_url`, `likes_of`) come from the root conftest, the sockets (`connect`, `call`,
the frame helpers) from the `tests.sockets` plugin. What they relay, with its
audience, is read with `capture_events` (the `tests.events` plugin).
"""

import gc

import pytest


@pytest.fixture(scope="session", autouse=True)
def _collect_stray_connections(django_db_setup):
    """Before the test database is dropped, collect the connections of finished worker threads.

    The relay runs actions on pooled threads; their connections become garbage in
    reference cycles, and until collected PostgreSQL refuses to drop the test database.
    """
    yield
    gc.collect()


# --- posts over REST ----------------------------------------------------------------------------
FEED = "/api/posts/"


def detail(post):
    return f"/api/posts/{post.pk}/"
