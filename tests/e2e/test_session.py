"""Someone new: create an account in the form, start a group, come back later."""

import uuid

import pytest
from playwright.sync_api import expect

from tests import servers
from tests.e2e.ui import (
    FRAME_RECORDER,
    TIMEOUT_MS,
    assert_received_once_in_order,
    messages,
    say,
    status,
)

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def test_someone_new_signs_up_starts_a_group_and_finds_it_again(browser, spa_server, screenshot_dir,
                                                               server_logs_on_failure):
    username = f"dana_{uuid.uuid4().hex[:6]}"
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(FRAME_RECORDER)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto(spa_server.base_url + "/")
        # A failed sign-in first: its error does not follow to the sign-up form.
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).not_to_be_empty()
        rules = page.locator("#password-note")
        expect(rules).to_be_hidden()
        page.get_by_role("button", name="Create an account").click()
        expect(page.get_by_role("alert")).to_be_empty()
        expect(rules).to_be_visible()  # the password rules, before any failure
        assert page.locator(".login input").evaluate_all("inputs => inputs.map((i) => i.name)") == [
            "username", "display_name", "password"]
        page.get_by_label("Display name").fill("Dana")
        page.get_by_label("Password").fill("short")
        page.get_by_role("button", name="Create account").click()
        # The server's own words, under the field they are about.
        expect(page.locator("#password-error")).to_contain_text("too short")
        expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")
        expect(page.get_by_label("Password")).to_be_focused()
        expect(page.get_by_role("alert")).to_be_empty()
        page.get_by_label("Password").fill(servers.PASSWORD)
        page.get_by_role("button", name="Create account").click()
        expect(status(page)).to_have_text("Live")
        expect(page.locator(".me-name")).to_have_text("Dana")
        expect(page.get_by_role("list", name="Your groups")).to_contain_text("No groups yet")

        page.get_by_role("button", name="+ New").click()
        page.get_by_role("textbox", name="Group name").fill("Dana's garden")
        # Wait for the server's answer first: a slow one under load is not a missing group, and a
        # refused one fails here with what the server said. The request and its answer are
        # awaited apart, so that a failure says which of the two never came.
        def creating(r):
            return r.method == "POST" and r.url.endswith("/api/groups/")

        with page.expect_response(lambda r: creating(r.request), timeout=2 * TIMEOUT_MS) as created:
            with page.expect_request(creating):
                page.get_by_role("button", name="Create", exact=True).click()
        assert created.value.status == 201, created.value.text()
        expect(page.locator(".chat h2")).to_contain_text("Dana's garden")
        say(page, "First tomatoes of the year")
        expect(messages(page)).to_have_text(["First tomatoes of the year"])
        assert_received_once_in_order(page, ["First tomatoes of the year"])

        # A reload keeps the session (this tab's sessionStorage) and shows the history.
        page.reload()
        expect(status(page)).to_have_text("Live")
        page.get_by_role("list", name="Your groups").get_by_role("button", name="Dana's garden").click()
        expect(messages(page)).to_have_text(["First tomatoes of the year"])
        # The reloaded page starts afresh in the stream: the history comes from REST, not replayed.
        assert_received_once_in_order(page, [])

        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("wrong password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).not_to_be_empty()
        page.get_by_label("Password").fill(servers.PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("list", name="Your groups")).to_contain_text("Dana's garden")
    finally:
        page.screenshot(path=str(screenshot_dir / "test_someone_new-dana.png"))
        context.close()
    assert not errors, errors
