"""The feed: a new post shows up in the other browser by itself, a like in one moves the count in
the other and notifies the author, and a reaction shows up for both."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

LIKE, UNLIKE = re.compile(r"^Like\b"), re.compile(r"^Unlike\b")


def post_card(page, text):
    return page.get_by_role("list", name="Posts").locator(".post", has_text=text)


def likes(page, text):
    return post_card(page, text).locator(".like-count")


def test_a_like_by_one_updates_the_others_count(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    a, b = person_page(alice), person_page(bob)

    a.get_by_role("textbox", name="New post").fill("Shipping the demo today")
    a.get_by_role("button", name="Post", exact=True).click()
    expect(likes(a, "Shipping the demo today")).to_have_text("0")
    expect(post_card(b, "Shipping the demo today")).to_contain_text("Alice")  # pushed (`postcreate`), no refresh
    expect(likes(b, "Shipping the demo today")).to_have_text("0")

    # Bob likes: Alice, the author, sees the count move and gets a notification.
    post_card(b, "Shipping the demo today").get_by_role("button", name=LIKE).click()
    expect(likes(b, "Shipping the demo today")).to_have_text("1")
    expect(likes(a, "Shipping the demo today")).to_have_text("1")
    expect(post_card(a, "Shipping the demo today")).to_contain_text("1 like")
    notifications = a.get_by_role("button", name="Notifications")
    expect(notifications.locator(".badge")).to_have_text("1")

    # Alice likes too: Bob, who only reads the post, sees it move as well.
    post_card(a, "Shipping the demo today").get_by_role("button", name=LIKE).click()
    expect(likes(a, "Shipping the demo today")).to_have_text("2")
    expect(likes(b, "Shipping the demo today")).to_have_text("2")

    # Bob takes his like back.
    post_card(b, "Shipping the demo today").get_by_role("button", name=UNLIKE).click()
    expect(likes(b, "Shipping the demo today")).to_have_text("1")
    expect(likes(a, "Shipping the demo today")).to_have_text("1")

    notifications.click()
    expect(a.get_by_role("list", name="Notifications")).to_contain_text("Bob liked your post.")
    expect(notifications.locator(".badge")).to_have_count(0)


def test_likes_of_a_group_post_reach_the_members(scene, person_page):
    alice, bob, carol = scene.person("Alice"), scene.person("Bob"), scene.person("Carol")
    group = scene.group(alice, "Design team", members=[bob, carol])
    carol.api("POST", "/api/posts/", {"content": "Mockups are in the team folder", "group_id": group["id"]},
              expect=201)
    a, b = person_page(alice), person_page(bob)
    expect(post_card(b, "Mockups are in the team folder")).to_contain_text("in # Design team")

    # Bob is neither the author nor a subscriber: the like reaches him as a member of the group.
    post_card(a, "Mockups are in the team folder").get_by_role("button", name=LIKE).click()
    expect(likes(a, "Mockups are in the team folder")).to_have_text("1")
    expect(likes(b, "Mockups are in the team folder")).to_have_text("1")


def test_a_reaction_on_a_post_and_on_a_message_shows_for_both(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    group = scene.group(alice, "Design team", members=[bob])
    a, b = person_page(alice), person_page(bob)
    a.get_by_role("textbox", name="New post").fill("Release notes are up")
    a.get_by_role("button", name="Post", exact=True).click()
    card = post_card(b, "Release notes are up")
    card.get_by_label("React", exact=True).click()
    card.get_by_role("button", name="React 🎉").click()
    expect(post_card(a, "Release notes are up").get_by_role("button", name="🎉 1")).to_have_count(1)
    expect(card.get_by_role("button", name="🎉 1")).to_have_attribute("aria-pressed", "true")

    alice.api("POST", f"/api/groups/{group['id']}/messages/", {"message": "Lunch at noon?"}, expect=201)
    for page in (a, b):
        page.get_by_role("list", name="Your groups").get_by_role("button", name="Design team").click()
    message = b.locator(".timeline .message", has_text="Lunch at noon?")
    message.get_by_label("React", exact=True).click()
    message.get_by_role("button", name="React 👍").click()
    expect(a.locator(".timeline .message", has_text="Lunch at noon?").get_by_role("button", name="👍 1")).to_have_count(1)
    b.reload()  # the count survives a reload (history carries it)
    b.get_by_role("list", name="Your groups").get_by_role("button", name="Design team").click()
    expect(b.locator(".timeline .message", has_text="Lunch at noon?").get_by_role("button", name="👍 1")).to_have_count(1)
