"""A dropped connection recovers every event sent meanwhile, exactly once, in order.

Two real ways to lose the socket: the browser goes offline (Chromium's network
emulation: frames stop, nothing closes, so the client has to notice by its
heartbeat), and the server process the person is connected to crashes
(SIGKILL) and comes back. Either way the client reconnects with a fresh ticket
and `resume=<the newest stream position it took>`, and the relay replays what
was missed. What the page renders cannot show a duplicate or a reordering (the
demo drops an id it shows already and sorts by id), so each test also checks
the frames the page's client emitted: every message id once, in increasing order.

Past the stream's retention the relay cannot replay: it says `resync`, and the
demo reads everything again through REST.
"""

import pytest
from playwright.sync_api import expect

from tests import servers
from tests.e2e.ui import (
    assert_received_once_in_order,
    both_in_chat,
    messages,
    open_group,
    received,
    say,
    status,
)

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
    assert_received_once_in_order(b, expected)
    assert_received_once_in_order(a, expected)


@pytest.fixture
def doomed_server(spa_server):
    """A server process of its own for Bob, to crash; stopped (in whichever life) afterwards.

    Ask for it before `person_page`, so the pages close before the server is stopped.
    """
    lives = [servers.Server.start(spa_server.stack, server=spa_server.server, **spa_server.env)]
    yield lives
    for server in lives:
        server.stop()


def test_a_server_crash_recovers_the_messages_sent_meanwhile(doomed_server, scene, person_page):
    bobs_server = doomed_server[0]
    alice, bob = scene.person("Alice"), scene.person("Bob", server=bobs_server)
    a, b = both_in_chat(scene, person_page, alice, bob)
    # The processes share the stream: through Redis at once, or (SQLite, no Redis) each reads
    # the database's stream every RELAY_STREAM_POLL second.
    say(b, "hello from the other process")
    expect(messages(b)).to_have_text(["hello from the other process"])
    expect(messages(a)).to_have_text(["hello from the other process"])

    bobs_server.kill()
    expect(status(b)).to_contain_text("Reconnecting")
    for text in MISSED:
        say(a, text)
    expect(messages(a)).to_have_text(["hello from the other process", *MISSED])
    b.wait_for_timeout(500)
    expect(messages(b)).to_have_text(["hello from the other process"])

    doomed_server.append(bobs_server.start_again())
    expect(status(b)).to_have_text("Live")
    expect(messages(b)).to_have_text(["hello from the other process", *MISSED])
    say(a, "and we are live again")
    expected = ["hello from the other process", *MISSED, "and we are live again"]
    expect(messages(b)).to_have_text(expected)
    expect(messages(a)).to_have_text(expected)
    assert_received_once_in_order(b, expected)
    assert_received_once_in_order(a, expected)


def unread(page, list_name, button):
    return page.get_by_role("list", name=list_name).get_by_role("button", name=button).locator(".badge")


def test_unread_badges_after_a_reconnect_count_each_missed_event_once(scene, person_page):
    """The replay brings exactly what was missed: nothing already read comes back as unread,
    and nothing counts twice (the demo does not read notifications again on top of it)."""
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    lunch = scene.group(alice, "Lunch", members=[bob])
    post = alice.api("POST", "/api/posts/", {"content": "Demo day on Friday"}, expect=201)
    a = person_page(alice)

    bob.api("POST", "/api/messages/", {"to": alice.id, "message": "are you around?"}, expect=201)
    expect(unread(a, "Direct messages", "Bob")).to_have_text("1")
    a.get_by_role("list", name="Direct messages").get_by_role("button", name="Bob").click()
    expect(messages(a)).to_have_text(["are you around?"])
    say(a, "yes, what's up?")  # read and answered
    expect(messages(a)).to_have_text(["are you around?", "yes, what's up?"])
    open_group(a, "Design team")
    expect(unread(a, "Direct messages", "Bob")).to_have_count(0)

    a.context.set_offline(True)
    expect(status(a)).to_contain_text("Reconnecting")
    bob.api("POST", f"/api/groups/{lunch['id']}/messages/", {"message": "pizza?"}, expect=201)
    bob.api("POST", f"/api/groups/{lunch['id']}/messages/", {"message": "or sushi?"}, expect=201)
    bob.api("POST", "/api/messages/", {"to": alice.id, "message": "one more thing"}, expect=201)
    alice.api("POST", "/api/messages/", {"to": bob.id, "message": "answered from my phone"}, expect=201)
    bob.api("POST", f"/api/posts/{post['id']}/like/")  # notifies Alice

    a.context.set_offline(False)
    expect(status(a)).to_have_text("Live")
    expect(unread(a, "Your groups", "Lunch")).to_have_text("2")
    expect(a.get_by_role("button", name="Notifications").locator(".badge")).to_have_text("1")
    # The DM was answered (from another device) after Bob's last word: nothing unread there.
    expect(unread(a, "Direct messages", "Bob")).to_have_count(0)
    # Once more, with nothing missed: the badges stay as they are.
    a.context.set_offline(True)
    expect(status(a)).to_contain_text("Reconnecting")
    a.context.set_offline(False)
    expect(status(a)).to_have_text("Live")
    a.wait_for_timeout(1000)
    expect(unread(a, "Your groups", "Lunch")).to_have_text("2")
    expect(a.get_by_role("button", name="Notifications").locator(".badge")).to_have_text("1")
    expect(unread(a, "Direct messages", "Bob")).to_have_count(0)
    assert_received_once_in_order(a, ["are you around?", "yes, what's up?", "pizza?", "or sushi?", "one more thing",
                                      "answered from my phone"])
    assert [note["kind"] for note in received(a, "notification")] == ["like"]

    a.get_by_role("list", name="Your groups").get_by_role("button", name="Lunch").click()
    expect(messages(a)).to_have_text(["pizza?", "or sushi?"])
    expect(unread(a, "Your groups", "Lunch")).to_have_count(0)


def test_past_the_streams_retention_the_demo_reloads_through_rest(scene, person_page, spa_stack):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    a, b = both_in_chat(scene, person_page, alice, bob)
    say(a, "before the drop")
    expect(messages(b)).to_have_text(["before the drop"])

    b.context.set_offline(True)
    expect(status(b)).to_contain_text("Reconnecting")
    for text in MISSED:
        say(a, text)
    expect(messages(a)).to_have_text(["before the drop", *MISSED])
    # As if Bob had been away longer than RELAY_STREAM_RETENTION: the stream forgets it all.
    spa_stack.python("import time; from relay.stream import read; print(read.trim(time.time() + 1))")

    b.context.set_offline(False)
    expect(status(b)).to_have_text("Live")
    expect(messages(b)).to_have_text(["before the drop", *MISSED])  # read again through REST
    say(a, "and we are live again")
    expected = ["before the drop", *MISSED, "and we are live again"]
    expect(messages(b)).to_have_text(expected)
    assert [frame["reason"] for frame in received(b, "resync")] == ["retention"]
    # Only the live ones came as frames, each once; the missed ones came from the history.
    assert_received_once_in_order(b, ["before the drop", "and we are live again"])
