"""Conversations and read state in the demo, as the server keeps them: a direct conversation
and its unread count survive a reload, reading on one device clears the badge on the other,
and the other person of a DM sees "Seen"."""

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import messages

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def dm_button(page, name):
    return page.get_by_role("list", name="Direct messages").get_by_role("button", name=name)


def test_a_direct_conversation_and_its_unread_count_survive_a_reload(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    alice.api("POST", "/api/messages/", {"to": bob.id, "message": "are you around?"}, expect=201)
    b = person_page(bob)
    expect(dm_button(b, "Alice").locator(".badge")).to_have_text("1")  # from the server, not the page
    b.reload()
    expect(dm_button(b, "Alice").locator(".badge")).to_have_text("1")
    dm_button(b, "Alice").click()
    expect(messages(b)).to_have_text(["are you around?"])
    expect(dm_button(b, "Alice").locator(".badge")).to_have_count(0)
    b.reload()  # read is stored: nothing unread after a reload either
    expect(dm_button(b, "Alice")).to_be_visible()
    expect(dm_button(b, "Alice").locator(".badge")).to_have_count(0)


def test_reading_on_one_device_clears_the_badge_on_the_other(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    phone, laptop = person_page(bob), person_page(bob)
    alice.api("POST", "/api/messages/", {"to": bob.id, "message": "lunch?"}, expect=201)
    alice.api("POST", "/api/messages/", {"to": bob.id, "message": "at noon"}, expect=201)
    for page in (phone, laptop):
        expect(dm_button(page, "Alice").locator(".badge")).to_have_text("2")
    phone.get_by_role("list", name="Direct messages").get_by_role("button", name="Alice").click()
    expect(messages(phone)).to_have_text(["lunch?", "at noon"])
    expect(dm_button(laptop, "Alice").locator(".badge")).to_have_count(0)  # the server's `unread` frame


def test_the_other_person_of_a_dm_sees_seen(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    alice.api("POST", "/api/messages/", {"to": bob.id, "message": "did you get the slides?"}, expect=201)
    a = person_page(alice)
    dm_button(a, "Bob").click()
    expect(messages(a)).to_have_text(["did you get the slides?"])
    seen = a.locator(".timeline .seen")
    expect(seen).to_have_count(0)
    b = person_page(bob)
    dm_button(b, "Alice").click()
    expect(messages(b)).to_have_text(["did you get the slides?"])
    expect(seen).to_have_text("Seen")  # the server's `read` receipt
