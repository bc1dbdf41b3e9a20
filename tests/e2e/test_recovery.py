"""A dropped connection recovers every message sent meanwhile, exactly once, in order.

Two real ways to lose the socket: the browser goes offline (Chromium's network
emulation: frames stop, nothing closes, so the client has to notice by its
heartbeat), and the server process the person is connected to crashes
(SIGKILL) and comes back. Either way the client reconnects with a fresh ticket
and `since=`, and the relay replays what was missed.
"""

import pytest
from playwright.sync_api import expect

from tests import servers
from tests.e2e.ui import both_in_chat, messages, say, status

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

MISSED = ["missed one", "missed two", "missed three"]


def test_a_dropped_connection_recovers_the_messages_sent_meanwhile(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    a, b = both_in_chat(scene, person_page, alice, bob)
    say(a, "before the drop")
    expect(messages(b)).to_have_text(["before the drop"])

    b.context.set_offline(True)
    expect(status(b)).to_contain_text("Reconnecting")  # the unanswered heartbeat gave it away
    for text in MISSED:
        say(a, text)
    expect(messages(a)).to_have_text(["before the drop", *MISSED])
    b.wait_for_timeout(1000)
    expect(messages(b)).to_have_text(["before the drop"])  # nothing got through meanwhile

    b.context.set_offline(False)
    expect(status(b)).to_have_text("Live")
    expect(messages(b)).to_have_text(["before the drop", *MISSED])

    say(a, "and we are live again")
    say(b, "glad to be back")
    expected = ["before the drop", *MISSED, "and we are live again", "glad to be back"]
    expect(messages(b)).to_have_text(expected)
    expect(messages(a)).to_have_text(expected)


@pytest.fixture
def doomed_server(spa_server):
    """A server process of its own for Bob, to crash; stopped (in whichever life) afterwards.

    Ask for it before `person_page`, so the pages close before the server is stopped.
    """
    lives = [servers.Server.start(spa_server.stack, **spa_server.env)]
    yield lives
    for server in lives:
        server.stop()


def test_a_server_crash_recovers_the_messages_sent_meanwhile(doomed_server, scene, person_page):
    bobs_server = doomed_server[0]
    alice, bob = scene.person("Alice"), scene.person("Bob", server=bobs_server)
    a, b = both_in_chat(scene, person_page, alice, bob)
    relayed = bool(bobs_server.stack.redis_url)  # processes relay to each other only through Redis
    say(b, "hello from the other process")
    expect(messages(b)).to_have_text(["hello from the other process"])
    seen_by_alice = ["hello from the other process"] if relayed else []
    expect(messages(a)).to_have_text(seen_by_alice)

    bobs_server.kill()
    expect(status(b)).to_contain_text("Reconnecting")
    for text in MISSED:
        say(a, text)
    expect(messages(a)).to_have_text([*seen_by_alice, *MISSED])
    b.wait_for_timeout(500)
    expect(messages(b)).to_have_text(["hello from the other process"])

    doomed_server.append(bobs_server.start_again())
    expect(status(b)).to_have_text("Live")
    expect(messages(b)).to_have_text(["hello from the other process", *MISSED])
    if relayed:
        say(a, "and we are live again")
        expect(messages(b)).to_have_text(["hello from the other process", *MISSED, "and we are live again"])
