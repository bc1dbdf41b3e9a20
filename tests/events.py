"""What actions relay, captured for every app's tests: a pytest plugin (registered once, by
tests/conftest.py) with one fixture, `capture_events`.

Tests that need the audience of an event (which users, groups and channels it was
published to) rather than what one socket received read it here; tests of what
reaches a socket open one (`connect`, from the `tests.sockets` plugin).
"""

import contextlib

import pytest

from relay.stream import publish


@pytest.fixture
def capture_events(django_capture_on_commit_callbacks):
    """What actions relay, with its audience: `with capture_events.capture(): ...`, then read
    `capture_events` (or `capture_events.of_type("postlike")`).

    Each entry is what an entry of the stream is published with (event, users, groups,
    channels), taken from the connection's outbox (`relay.stream.publish.take`) once the
    transaction has committed, instead of reaching the channel layer. `capture()` runs the
    on-commit callbacks of a test inside the test's transaction and takes what they left;
    code that commits in a thread of its own records with `capture_events.take()` there.
    """

    class Captured(list):
        @contextlib.contextmanager
        def capture(self):
            with django_capture_on_commit_callbacks(execute=True):
                yield
            self.take()

        def take(self):
            """Record what this thread's committed actions left to send."""
            for fn, args in publish.take():
                if fn is publish._publish_entry:
                    entry = args[0]
                    captured = {"event": entry.event, "users": entry.users, "groups": entry.groups,
                                "channels": entry.channels}
                    if entry.variants:  # how some users are told it (relay.stream.variants)
                        captured["variants"] = entry.variants
                    self.append(captured)

        def of_type(self, type_):
            return [kwargs for kwargs in self if kwargs["event"] and kwargs["event"]["type"] == type_]

    return Captured()
