"""The demo on a phone (390 px wide): the navigation and the people panel are drawers over the
chat, and the top bar fits."""

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.processes]

PHONE = {"width": 390, "height": 844}


def test_on_a_phone_the_navigation_and_the_people_are_drawers(scene, person_page):
    alice, bob = scene.person("Alice"), scene.person("Bob")
    scene.group(alice, "Design team", members=[bob])
    a = person_page(alice, viewport=PHONE)
    sidebar, aside = a.locator("#sidebar"), a.locator("#aside")
    expect(sidebar).to_be_hidden()
    expect(aside).to_be_hidden()
    sign_out = a.get_by_role("button", name="Sign out")
    box = sign_out.bounding_box()
    assert box["x"] + box["width"] <= PHONE["width"] and box["height"] < 40, box  # on one line, on screen

    menu = a.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(sidebar).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    a.get_by_role("list", name="Your groups").get_by_role("button", name="Design team").click()
    expect(sidebar).to_be_hidden()  # going somewhere closes the drawer
    expect(a.locator(".chat h2")).to_contain_text("Design team")

    people = a.get_by_role("button", name="People")
    people.click()
    expect(aside).to_be_visible()
    expect(a.get_by_role("list", name="Members")).to_contain_text("Bob")
    expect(people).to_have_attribute("aria-expanded", "true")
    a.keyboard.press("Escape")
    expect(aside).to_be_hidden()
    expect(people).to_have_attribute("aria-expanded", "false")
    expect(a.get_by_role("textbox", name="Message")).to_be_visible()
