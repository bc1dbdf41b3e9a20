"""Posts test helpers: posts made through the domain actions.

The scene (alice, bob, charlie, `public_group`, `private_group`) comes from the
root conftest, the sockets (`connect`, `call`, the frame helpers) from the
`tests.sockets` plugin. `make_post(author, group=None)` writes a post through
`posts.actions.create_post`; `sent_events` records what actions relay, with its audience.
"""

import gc

import pytest

from posts.actions import create_post
from relay.stream import publish as notify


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


# --- events ---------------------------------------------------------------------------------------
@pytest.fixture
def sent_events(monkeypatch, django_capture_on_commit_callbacks):
    """What actions relay, with its audience: `with sent_events.capture(): ...` then read `sent_events`.

    Each entry is what an entry of the stream was published with (event, users, groups,
    channels), recorded when the transaction commits.
    """

    class Sent(list):
        def capture(self):
            return django_capture_on_commit_callbacks(execute=True)

        def of_type(self, type_):
            return [kwargs for kwargs in self if kwargs["event"]["type"] == type_]

    sent = Sent()

    async def record(entry):
        sent.append({"event": entry.event, "users": entry.users, "groups": entry.groups,
                     "channels": entry.channels})

    monkeypatch.setattr(notify, "_publish_entry", record)
    return sent
