"""Finding people and groups: an owner adds someone they know to a private group, two people
become friends, and a new public group shows in Discover live, which also searches."""

import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import open_group

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_an_owner_adds_someone_they_know_to_a_private_group(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    secret = alice.api("POST", "/api/groups/", {"name": "Secret plans", "is_private": True}, expect=201)
    a, b = person_page(alice), person_page(bob)
    expect(b.get_by_role("list", name="Your groups")).not_to_contain_text("Secret plans")
    open_group(a, "Design team")  # Bob is someone Alice knows from here
    expect(a.get_by_role("list", name="Members")).to_contain_text("Bob")
    open_group(a, "Secret plans")
    a.get_by_label("Add someone").select_option(label="Bob (@" + bob.username + ")")
    a.get_by_role("button", name="Add", exact=True).click()
    expect(a.get_by_role("list", name="Members").locator(".person-name")).to_contain_text(["Bob"])
    # Bob's screen: the private group is his now, live.
    expect(b.get_by_role("list", name="Your groups")).to_contain_text("Secret plans")
    assert secret["is_private"]


def test_a_friend_request_is_sent_and_accepted_from_the_demo(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    a, b = person_page(alice), person_page(bob)
    a.get_by_role("button", name="Feed").click()  # the aside shows who Alice knows
    row = a.get_by_role("list", name="People").locator(".person", has_text="Bob")
    row.get_by_role("button", name="Add friend").click()
    expect(row.get_by_role("button", name="Asked")).to_be_disabled()

    b.get_by_role("button", name="Notifications").click()
    notes = b.get_by_role("list", name="Notifications")
    expect(notes).to_contain_text("Alice")
    notes.get_by_role("button", name="Accept").click()
    b.get_by_role("button", name="Feed").click()
    expect(b.get_by_role("list", name="People").locator(".person", has_text="Alice")
           .get_by_role("button", name="Unfriend")).to_be_visible()
    # Alice's side follows the acceptance live.
    expect(row.get_by_role("button", name="Unfriend")).to_be_visible()


def test_a_new_public_group_shows_in_discover_live_and_search_finds_public_groups(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    tag = uuid.uuid4().hex[:6]
    scene.group(alice, f"Reading circle {tag}")
    b = person_page(bob)
    b.locator(".discover summary").click()
    public = b.get_by_role("list", name="Public groups")
    expect(public).to_contain_text(f"Reading circle {tag}")

    alice.api("POST", "/api/groups/", {"name": f"Chess evenings {tag}"}, expect=201)
    alice.api("POST", "/api/groups/", {"name": f"Secret {tag}", "is_private": True}, expect=201)
    expect(public).to_contain_text(f"Chess evenings {tag}")  # live, without a reload
    expect(public).not_to_contain_text(f"Secret {tag}")

    search = b.get_by_label("Search public groups")
    search.fill(f"chess evenings {tag}")
    expect(public.locator("li")).to_have_count(1)
    expect(public).to_contain_text(f"Chess evenings {tag}")
    expect(search).to_be_focused()
    search.fill(f"nothing like it {tag}")
    expect(public).to_contain_text("No public group by that name")
    search.fill(f"chess evenings {tag}")
    public.locator("li", has_text="Chess evenings").get_by_role("button", name="Join").click()
    expect(b.locator(".chat h2")).to_contain_text(f"Chess evenings {tag}")


def test_who_is_online_lists_whoever_the_sidebar_shows_online(scene, person_page):
    """Bob shares only Alice's oldest group of eleven (the page reads the members of the ten
    newest) and wrote to her: the sidebar shows him online under Direct messages, and so does
    Who is online."""
    alice, bob = scene.person("Alice"), scene.person("Bob")
    tag = uuid.uuid4().hex[:6]
    scene.group(alice, f"Zebra crossing {tag}", members=[bob])
    for i in range(10):  # newer: the page reads these groups' members, not the first one's
        scene.group(alice, f"Later {i} {tag}")
    bob.api("POST", "/api/messages/", {"to": alice.id, "message": "hi Alice"}, expect=201)
    a = person_page(alice)
    dms = a.get_by_role("list", name="Direct messages")
    expect(dms).to_contain_text("Bob")
    person_page(bob)
    expect(dms.locator(".dot")).to_have_class("dot online", timeout=5_000)
    a.get_by_role("button", name="Feed").click()
    people = a.get_by_role("list", name="People")
    expect(people.locator(".person", has_text="Bob").locator(".dot")).to_have_class("dot online")
