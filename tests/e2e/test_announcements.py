"""An operator's announcement in the demo: a band under the top bar, live when it is made, gone
on every device once dismissed."""

import uuid

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


def announce(server, message, level="warning"):
    """Made as the admin makes it (`moderation.actions.announce`), by a superuser of its own."""
    name = f"op_{uuid.uuid4().hex[:6]}"
    server.stack.python(
        "from accounts.models import User; from moderation.actions import announce; from relay.stream import publish; "
        f"op = User.objects.create_superuser({name!r}, password='x-{name}'); "
        f"announce(moderator=op, message={message!r}, level={level!r}); publish.send_now(publish.take())")


def test_an_announcement_shows_live_and_stays_dismissed(scene, person_page, spa_server):
    alice = scene.person("Alice")
    a = person_page(alice)
    expect(a.get_by_role("status").filter(has_text="Live")).to_be_visible()
    text = f"Maintenance tonight {uuid.uuid4().hex[:6]}"
    announce(spa_server, text)
    band = a.locator(".announcement", has_text=text)
    expect(band).to_be_visible()
    band.get_by_role("button", name="Dismiss this announcement").click()
    expect(band).to_have_count(0)
    a.reload()
    expect(a.get_by_role("status").filter(has_text="Live")).to_be_visible()
    expect(a.locator(".announcement", has_text=text)).to_have_count(0)
