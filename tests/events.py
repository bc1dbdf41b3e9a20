"""What actions relay, captured for every app's tests: a pytest plugin (registered once, by
tests/conftest.py) with one fixture, `capture_events`.

Tests that need the audience of an event (which users, groups and channels it was
published to) rather than what one socket received read it here; tests of what
reaches a socket open one (`connect`, from the `tests.sockets` plugin).
"""

import pytest

from relay.stream import publish


@pytest.fixture
def capture_events(monkeypatch, django_capture_on_commit_callbacks):
    """What actions relay, with its audience: `with capture_events.capture(): ...`, then read
    `capture_events` (or `capture_events.of_type("postlike")`).

    Each entry is what an entry of the stream was published with (event, users, groups,
    channels), recorded when the transaction commits, instead of reaching the channel layer.
    `capture()` runs the on-commit callbacks of a test inside the test's transaction; in a
    transactional test, every commit (another thread's too) records without it.
    """

    class Captured(list):
        def capture(self):
            return django_capture_on_commit_callbacks(execute=True)

        def of_type(self, type_):
            return [kwargs for kwargs in self if kwargs["event"]["type"] == type_]

    captured = Captured()

    async def record(entry):
        captured.append({"event": entry.event, "users": entry.users, "groups": entry.groups,
                         "channels": entry.channels})

    monkeypatch.setattr(publish, "_publish_entry", record)
    return captured
