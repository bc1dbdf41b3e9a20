"""A kick by the owner removes the member from the group live, in the member's own browser.

On the production stack the two people are on two server processes, so the kick and
the messages after it cross Redis.
"""

import pytest
from playwright.sync_api import expect

from tests.e2e.ui import (
    assert_received_once_in_order,
    both_in_chat,
    messages,
    notices,
    open_group,
    received,
    say,
)

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


@pytest.fixture
def bob_server(spa_server, second_server):
    """Bob's server: another process when Redis relays between processes, else the same one."""
    return second_server if spa_server.stack.redis_url else spa_server


def test_a_kick_removes_the_other_from_the_group_live(scene, person_page, bob_server):
    alice, bob = scene.person("Alice"), scene.person("Bob", server=bob_server)
    a, b = both_in_chat(scene, person_page, alice, bob)
    say(a, "Welcome aboard")
    expect(messages(b)).to_have_text(["Welcome aboard"])

    members = a.get_by_role("list", name="Members")
    summary = a.locator(".view-head [data-summary]")
    expect(summary).to_have_text("2 members")
    remove = members.locator(".person", has_text="Bob").get_by_role("button", name="Remove")
    remove.click()
    expect(remove).to_have_text("Remove Bob?")  # a second click confirms
    remove.click()

    # Bob's screen: the group is gone from his list, the chat says why, and he can no longer write.
    expect(b.get_by_role("alert")).to_have_text("You were removed from Design team by Alice.")
    b.wait_for_timeout(500)
    expect(b.locator("#toasts .toast")).to_have_count(0)  # said once, by the banner: no toasts besides
    expect(b.get_by_role("list", name="Your groups")).not_to_contain_text("Design team")
    expect(b.get_by_role("textbox", name="Message")).to_have_count(0)
    expect(b.get_by_role("button", name="Notifications").locator(".badge")).to_have_text("1")
    # Alice's screen: a notice, and Bob is no longer a member.
    expect(notices(a)).to_have_text(["You removed Bob"])
    expect(members.locator(".person-name")).to_have_text(["Alice"])
    expect(summary).to_have_text("1 member")  # the header follows the kick, in the singular

    # What the group says afterwards does not reach Bob any more.
    say(a, "Bob has left the building")
    expect(messages(a)).to_have_text(["Welcome aboard", "Bob has left the building"])
    a.wait_for_timeout(1000)
    expect(messages(b)).to_have_text(["Welcome aboard"])
    assert_received_once_in_order(b, ["Welcome aboard"])  # not even as a frame the demo ignored
    assert [(kick["user"]["id"], kick["by"]["id"]) for kick in received(b, "kick")] == [(bob.id, alice.id)]
    b.get_by_role("button", name="Notifications").click()
    expect(b.get_by_role("list", name="Notifications")).to_contain_text("Design team")


def test_a_member_cannot_remove_anyone(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    b = person_page(bob)
    open_group(b, "Design team")
    members = b.get_by_role("list", name="Members")
    expect(members.locator(".person-name")).to_have_text(["Bob", "Alice"])
    expect(members.get_by_role("button", name="Remove")).to_have_count(0)
