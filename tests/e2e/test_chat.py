"""Group chat and direct messages in the demo, between people in separate browsers."""

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import (
    assert_received_once_in_order,
    both_in_chat,
    messages,
    notices,
    open_group,
    say,
)

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_a_message_typed_by_one_appears_for_the_other(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    a, b = both_in_chat(scene, person_page, alice, bob, description="Where we ship the demo")
    expect(b.locator(".chat h2")).to_contain_text("Design team")

    a.get_by_role("textbox", name="Message").fill("Hello Bob, the demo is live")
    expect(b.locator(".typing")).to_have_text("Alice is typing…")
    a.get_by_role("textbox", name="Message").press("Enter")

    expect(messages(b)).to_have_text(["Hello Bob, the demo is live"])
    expect(b.locator(".timeline .message .author")).to_have_text(["Alice"])
    expect(b.locator(".typing")).to_have_text("")
    expect(messages(a)).to_have_text(["Hello Bob, the demo is live"])

    say(b, "Nice! Looks great")
    expect(messages(a)).to_have_text(["Hello Bob, the demo is live", "Nice! Looks great"])
    expect(messages(b)).to_have_text(["Hello Bob, the demo is live", "Nice! Looks great"])
    for page in (a, b):
        assert_received_once_in_order(page, ["Hello Bob, the demo is live", "Nice! Looks great"])


def test_a_message_in_another_chat_shows_as_unread(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    scene.group(alice, "Lunch", members=[bob])
    a, b = person_page(alice), person_page(bob)
    open_group(a, "Lunch")
    open_group(b, "Design team")

    say(a, "Pizza at noon?")
    lunch = b.get_by_role("list", name="Your groups").get_by_role("button", name="Lunch")
    expect(lunch.locator(".badge")).to_have_text("1")
    expect(messages(b)).to_have_count(0)
    lunch.click()
    expect(messages(b)).to_have_text(["Pizza at noon?"])
    expect(lunch.locator(".badge")).to_have_count(0)
    assert_received_once_in_order(b, ["Pizza at noon?"])


def test_joining_and_leaving_show_as_notices_and_in_the_member_list(scene, person_page):
    alice, carol = scene.person("Alice"), scene.person("Carol")
    scene.group(alice, "Book club")
    a, c = person_page(alice), person_page(carol)
    open_group(a, "Book club")
    members = a.get_by_role("list", name="Members")
    expect(members.locator(".person-name")).to_have_text(["Alice"])
    summary = a.locator(".view-head [data-summary]")
    expect(summary).to_have_text("1 member")

    c.get_by_text("Discover").click()
    c.locator(".discover li", has_text="Book club").get_by_role("button", name="Join").click()
    expect(c.locator(".chat h2")).to_contain_text("Book club")
    expect(notices(a)).to_have_text(["Carol joined the group"])
    expect(members.locator(".person-name")).to_have_text(["Carol", "Alice"])
    expect(members.locator(".person", has_text="Carol").locator(".dot")).to_have_class("dot online")
    expect(summary).to_have_text("2 members")  # the header follows the join

    c.get_by_role("button", name="Leave group").click()
    expect(notices(a)).to_have_text(["Carol joined the group", "Carol left the group"])
    expect(members.locator(".person-name")).to_have_text(["Alice"])
    expect(c.get_by_role("list", name="Your groups")).not_to_contain_text("Book club")


def test_a_direct_message_reaches_the_other_person(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    a, b = person_page(alice), person_page(bob)
    open_group(b, "Design team")
    b.get_by_role("list", name="Members").locator(".person", has_text="Alice") \
        .get_by_role("button", name="Message").click()
    expect(b.locator(".chat h2")).to_contain_text("Alice")
    say(b, "psst, a private word")

    dms = a.get_by_role("list", name="Direct messages")
    expect(dms.get_by_role("button", name="Bob").locator(".badge")).to_have_text("1")
    dms.get_by_role("button", name="Bob").click()
    expect(messages(a)).to_have_text(["psst, a private word"])
    say(a, "got it")
    expect(messages(b)).to_have_text(["psst, a private word", "got it"])
    expect(messages(a)).to_have_text(["psst, a private word", "got it"])
    for page in (a, b):
        assert_received_once_in_order(page, ["psst, a private word", "got it"])


def test_someone_coming_and_going_shows_in_the_member_list_as_it_happens(scene, person_page):
    """No polling: the dot follows the server's `presence` frames (going offline waits out the
    server's debounce, RELAY_PRESENCE_DEBOUNCE, 5 s as shipped)."""
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    a = person_page(alice)
    open_group(a, "Design team")
    dot = a.get_by_role("list", name="Members").locator(".person", has_text="Bob").locator(".dot")
    expect(dot).to_have_class("dot")
    b = person_page(bob)
    expect(dot).to_have_class("dot online", timeout=5_000)  # the demo polled every 15 s before
    b.get_by_role("button", name="Sign out").click()
    expect(dot).to_have_class("dot", timeout=10_000)


def test_a_members_actions_are_shown_and_work_from_the_keyboard(scene, person_page):
    """A first-time user sees how to write to a member or remove them without hovering, and can
    do it with the keyboard alone (or by touch)."""
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    a = person_page(alice)
    open_group(a, "Design team")
    row = a.get_by_role("list", name="Members").locator(".person", has_text="Bob")
    write, remove = row.get_by_role("button", name="Message"), row.get_by_role("button", name="Remove")
    for button in (write, remove):
        expect(button).to_be_visible()
        expect(button).to_have_css("opacity", "1")
    write.focus()
    a.keyboard.press("Enter")
    expect(a.locator(".chat h2")).to_contain_text("Bob")
