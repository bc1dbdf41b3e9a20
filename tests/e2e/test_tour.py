"""A tour: everything at once on Alice's screen while Bob is busy in his browser.

Its last screenshot, `demo.png` in the screenshots directory, is the picture in the
README (docs/demo.png).
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import messages, notices, open_group, say

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_a_tour_of_the_demo(scene, person_page, screenshot_dir):
    alice, bob, carol = scene.person("Alice"), scene.person("Bob"), scene.person("Carol")
    team = scene.group(alice, "Design team", members=[bob, carol],
                       description="Shipping the Kirimin demo this week")
    scene.group(alice, "Lunch", members=[bob])
    history = [(carol, "Morning! The new mockups are in the shared folder"),
               (alice, "Thanks Carol, they look great"),
               (alice, "Bob, can you wire them into the demo?")]
    for person, text in history:
        person.api("POST", f"/api/groups/{team['id']}/messages/", {"message": text}, expect=201)
    post = alice.api("POST", "/api/posts/", {"content": "The Kirimin demo ships on Friday"}, expect=201)
    carol.api("POST", f"/api/posts/{post['id']}/like/")

    a, b = person_page(alice), person_page(bob)
    open_group(a, "Design team")
    expect(messages(a)).to_have_text([text for _, text in history])
    members = a.get_by_role("list", name="Members")
    expect(members.locator(".person", has_text="Bob").locator(".dot")).to_have_class("dot online")
    expect(members.locator(".person", has_text="Carol").locator(".dot")).to_have_class("dot")

    open_group(b, "Design team")
    say(b, "On it! Live updates are already working")
    b.get_by_role("list", name="Your groups").get_by_role("button", name="Lunch").click()
    say(b, "Pizza at noon?")
    b.get_by_role("button", name="Feed").click()
    b.get_by_role("list", name="Posts").locator(".post", has_text="ships on Friday").get_by_role(
        "button", name="Like").click()
    bob.api("POST", "/api/messages/", {"to": alice.id, "message": "Got a minute after standup?"}, expect=201)
    open_group(b, "Design team")
    dave = scene.person("Dave")
    dave.api("POST", f"/api/groups/{team['id']}/join/")
    b.get_by_role("textbox", name="Message").fill("Pushing the last fix now")  # not sent: typing

    expect(messages(a)).to_have_text([*(text for _, text in history), "On it! Live updates are already working"])
    expect(notices(a)).to_have_text(["Dave joined the group"])
    expect(a.get_by_role("list", name="Your groups").get_by_role("button", name="Lunch").locator(".badge")) \
        .to_have_text("1")
    expect(a.get_by_role("list", name="Direct messages").get_by_role("button", name="Bob").locator(".badge")) \
        .to_have_text("1")
    expect(a.get_by_role("button", name="Notifications").locator(".badge")).to_have_text("2")  # Carol, Bob liked
    expect(members.locator(".person-name")).to_have_text(["Dave", "Carol", "Bob", "Alice"])
    expect(a.locator(".typing")).to_have_text("Bob is typing…")
    a.screenshot(path=str(screenshot_dir / "demo.png"))
