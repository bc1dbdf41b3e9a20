"""Posts test helpers: groups and posts made through the domain actions, and real sockets.

The scene: alice owns a public group and a private group, bob is a member of
both, charlie belongs to neither. `make_post(author, group=None)` writes a post
through `posts.actions.create_post`. `connect(user)` opens a socket against the
real ASGI app with a fresh one-time ticket (anonymous without a user), checks
the `connection` frame, and is disconnected after the test; the event loop's hub
is stopped after every test so nothing leaks into the next.
"""

import contextlib
import gc

import pytest

from posts.actions import create_post
from relay.stream import publish as notify
from tests.conftest import group_with  # noqa: F401 - the suite's tests import it from here
from tests.sockets import (  # noqa: F401 - fixtures and helpers this suite's tests use
    IDENTIFIER,
    _fresh_hub,
    call,
    connect,
    nothing,
    open_socket,
    recv,
    recv_types,
    send,
    settle,
    sockets,
    subscribe,
)


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
def sent_events(django_capture_on_commit_callbacks):
    """What actions relay, with its audience: `with sent_events.capture(): ...` then read `sent_events`.

    Each entry is what an entry of the stream is published with (event, users, groups,
    channels), taken from the outbox when the transaction has committed.
    """

    class Sent(list):
        @contextlib.contextmanager
        def capture(self):
            with django_capture_on_commit_callbacks(execute=True):
                yield
            self.take()

        def take(self):
            """Record what this thread's committed actions left to send."""
            for fn, args in notify.take():
                if fn is notify._publish_entry:
                    entry = args[0]
                    self.append({"event": entry.event, "users": entry.users, "groups": entry.groups,
                                 "channels": entry.channels})

        def of_type(self, type_):
            return [kwargs for kwargs in self if kwargs["event"]["type"] == type_]

    return Sent()


# --- sockets ----------------------------------------------------------------------------------


