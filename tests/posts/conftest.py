"""Posts test helpers: posts made through the domain actions.

The scene (alice, bob, charlie, `public_group`, `private_group`) comes from the
root conftest, the sockets (`connect`, `call`, the frame helpers) from the
`tests.sockets` plugin. `make_post(author, group=None)` writes a post through
`posts.actions.create_post`. What they relay, with its audience, is read with
`capture_events` (the `tests.events` plugin).
"""

import gc

import pytest

from posts.actions import create_post


@pytest.fixture(scope="session", autouse=True)
def _collect_stray_connections(django_db_setup):
    """Before the test database is dropped, collect the connections of finished worker threads.

    The relay runs actions on pooled threads; their connections become garbage in
    reference cycles, and until collected PostgreSQL refuses to drop the test database.
    """
    yield
    gc.collect()


# --- the scene ----------------------------------------------------------------------------------


@pytest.fixture
def make_post(db):
    def make(author, group=None, content="hello"):
        return create_post(actor=author, content=content, group=group)

    return make
