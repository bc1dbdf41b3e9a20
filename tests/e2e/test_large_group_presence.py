"""A group over RELAY_PRESENCE_MAX_MEMBERS: its members are not told of each other's presence
(that would grow with the square of its size), but the group in view follows its
`presence:<id>` channel, so the member list's dots still move live, with no polling."""

import pytest
from playwright.sync_api import expect

from tests import servers
from tests.e2e.conftest import Scene, production_env
from tests.e2e.ui import open_group

pytestmark = [pytest.mark.e2e, pytest.mark.processes]


@pytest.fixture
def small_cap_server(spa_stack):
    """A server that counts every group of more than two members as large."""
    server = servers.Server.start(spa_stack, server="uvicorn", **production_env(spa_stack),
                                  RELAY_PRESENCE_MAX_MEMBERS="2")
    yield server
    server.stop()


def test_the_member_list_of_a_large_group_in_view_shows_who_comes_and_goes(small_cap_server, person_page):
    scene = Scene(small_cap_server)
    alice, bob, carol = scene.person("Alice"), scene.person("Bob"), scene.person("Carol")
    scene.group(alice, "Town hall", members=[bob, carol])  # three members: over the cap
    a = person_page(alice)
    open_group(a, "Town hall")
    dot = a.get_by_role("list", name="Members").locator(".person", has_text="Bob").locator(".dot")
    expect(dot).to_have_class("dot")
    b = person_page(bob)
    expect(dot).to_have_class("dot online", timeout=5_000)
    b.get_by_role("button", name="Sign out").click()
    expect(dot).to_have_class("dot", timeout=10_000)
