"""Editing and deleting a message in the demo (issue 23, item 4), between two people: the author
edits and deletes their own; the other sees both as they happen, and an edit survives a reload.
Also what else now reaches the demo live (items 5 and 7): a report, a group's rename, a new role."""

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import both_in_chat, messages, open_group, say

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_the_author_edits_then_deletes_and_the_other_sees_it_live(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    a, b = both_in_chat(scene, person_page, alice, bob)
    say(b, "Metting at 3")
    expect(messages(a)).to_have_text(["Metting at 3"])

    b.once("dialog", lambda dialog: dialog.accept("Meeting at 3"))
    b.locator(".timeline .message", has_text="Metting at 3").get_by_role("button", name="Edit").click()
    expect(messages(a)).to_have_text(["Meeting at 3 (edited)"])
    expect(messages(b)).to_have_text(["Meeting at 3 (edited)"])

    # The owner of the group may delete Bob's message, not edit it.
    theirs = a.locator(".timeline .message", has_text="Meeting at 3")
    expect(theirs.get_by_role("button", name="Delete")).to_have_count(1)
    expect(theirs.get_by_role("button", name="Edit")).to_have_count(0)

    a.reload()
    open_group(a, "Design team")
    expect(messages(a)).to_have_text(["Meeting at 3 (edited)"])

    b.once("dialog", lambda dialog: dialog.accept())
    b.locator(".timeline .message", has_text="Meeting at 3").get_by_role("button", name="Delete").click()
    expect(messages(a)).to_have_count(0)
    expect(messages(b)).to_have_count(0)


def test_a_member_reports_a_message_and_the_moderators_get_it(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    a, b = both_in_chat(scene, person_page, alice, bob)
    say(a, "Buy cheap watches here")
    expect(messages(b)).to_have_text(["Buy cheap watches here"])
    mine = a.locator(".timeline .message", has_text="Buy cheap watches")
    expect(mine.get_by_role("button", name="Report")).to_have_count(0)  # not one's own

    b.once("dialog", lambda dialog: dialog.accept("Spam"))
    b.locator(".timeline .message", has_text="Buy cheap watches").get_by_role("button", name="Report").click()
    expect(b.locator(".toast")).to_contain_text("Reported")
    (report,) = bob.api("GET", "/api/reports/")["results"]
    assert report["target"].startswith("message:") and report["reason"] == "Spam" and report["status"] == "open"


def test_a_rename_and_a_new_role_show_for_the_members_as_they_happen(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    group = scene.group(alice, "Design team", members=[bob])
    b = person_page(bob)
    open_group(b, "Design team")
    b.get_by_role("textbox", name="Message").fill("half typed")

    alice.api("PATCH", f"/api/groups/{group['id']}/", {"name": "Product team", "description": "Ship it"})
    expect(b.locator(".chat h2")).to_contain_text("Product team")
    expect(b.get_by_role("list", name="Your groups")).to_contain_text("Product team")
    expect(b.get_by_role("textbox", name="Message")).to_have_value("half typed")  # the header only was redrawn

    alice.api("PATCH", f"/api/groups/{group['id']}/members/{bob.id}/", {"role": "admin"})
    members = b.get_by_role("list", name="Members")
    expect(members.locator(".person", has_text="Bob").locator(".role")).to_have_text("admin")
