"""The demo's main screens pass axe-core (the accessibility engine browsers' own audits use)
with no serious or critical violation: sign-in, a group chat with its members, a direct
conversation, the feed, the notifications, and a phone-sized screen."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from tests.e2e.ui import open_group, say

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

BLOCKING = {"serious", "critical"}


def violations(page):
    """What axe-core finds serious or critical on the page as it is now, one line each."""
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
            for v in found if v["impact"] in BLOCKING]


def test_the_main_screens_have_no_serious_accessibility_violations(scene, person_page, browser, spa_server):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob], description="Where the design happens")
    found = {}

    # Signed out: the sign-in form, and the sign-up form.
    context = browser.new_context()
    page = context.new_page()
    page.goto(spa_server.base_url + "/")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    found["sign-in"] = violations(page)
    page.get_by_role("button", name="Create an account").click()
    found["sign-up"] = violations(page)
    context.close()

    a = person_page(alice)
    open_group(a, "Design team")
    say(a, "Hello @bob, welcome")
    found["group chat"] = violations(a)
    a.get_by_role("list", name="Members").locator(".person", has_text="Bob").get_by_role("button", name="Message").click()
    expect(a.locator(".chat h2")).to_contain_text("Bob")
    found["direct conversation"] = violations(a)
    a.get_by_role("button", name="Feed").click()
    found["feed"] = violations(a)
    a.get_by_role("button", name="Notifications").click()
    found["notifications"] = violations(a)

    phone = person_page(bob, viewport={"width": 390, "height": 844})
    found["phone"] = violations(phone)
    phone.get_by_role("button", name="Menu").click()
    found["phone, menu open"] = violations(phone)

    failing = {screen: v for screen, v in found.items() if v}
    assert not failing, "\n".join(f"{screen}: {line}" for screen, lines in failing.items() for line in lines)
