"""Blocking and muting in the demo (issue 23, items 1 and 2), as two people use it: Alice blocks Bob
from the people list; Bob's messages in their group reach her folded (she can open one), his
direct messages are refused, and he is never told. Muting keeps his messages from counting."""

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import both_in_chat, messages, open_group, say

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def person_row(page, name):
    return page.get_by_role("list", name="People").locator(".person", has_text=name)


def test_alice_blocks_bob_his_messages_fold_and_his_direct_messages_are_refused(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    a, b = both_in_chat(scene, person_page, alice, bob)
    say(b, "Before the block")
    expect(messages(a)).to_have_text(["Before the block"])

    a.get_by_role("button", name="Feed").click()
    a.once("dialog", lambda dialog: dialog.accept())
    person_row(a, "Bob").get_by_role("button", name="Block").click()
    expect(person_row(a, "Bob").get_by_role("button", name="Unblock")).to_have_count(1)
    assert [row["user"]["id"] for row in alice.api("GET", "/api/blocks/")["results"]] == [bob.id]

    open_group(a, "Design team")
    say(b, "After the block")
    expect(messages(b)).to_have_text(["Before the block", "After the block"])  # Bob sees nothing changed
    expect(messages(a).nth(1)).to_contain_text("Message from someone you blocked")
    expect(messages(a).first).to_contain_text("Message from someone you blocked")  # the history folds too
    a.locator(".timeline .message").nth(1).get_by_role("button", name="Show").click()
    expect(messages(a).nth(1)).to_have_text("After the block")

    status, refused = bob.server.client().request("POST", "/api/messages/", {"to": alice.id, "message": "hi"},
                                                  bob.access)
    assert status == 403 and refused["details"] == {"reason": "blocked"}

    a.get_by_role("button", name="Feed").click()
    person_row(a, "Bob").get_by_role("button", name="Unblock").click()
    open_group(a, "Design team")
    expect(messages(a)).to_have_text(["Before the block", "After the block"])


def test_a_muted_persons_messages_do_not_count_as_unread(scene, person_page):
    alice, bob, carol = scene.person("Alice"), scene.person("Bob"), scene.person("Carol")
    group = scene.group(alice, "Design team", members=[bob, carol])
    a = person_page(alice)
    person_row(a, "Bob").get_by_role("button", name="Mute").click()
    expect(person_row(a, "Bob").get_by_role("button", name="Unmute")).to_have_count(1)
    bob.api("POST", f"/api/groups/{group['id']}/messages/", {"message": "from Bob"}, expect=201)
    carol.api("POST", f"/api/groups/{group['id']}/messages/", {"message": "from Carol"}, expect=201)
    expect(a.get_by_role("list", name="Your groups").get_by_role("button", name="Design team")).to_contain_text("1")
