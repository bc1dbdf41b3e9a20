"""What a person sees in the demo SPA: locators and actions the e2e tests share."""

TIMEOUT_MS = 15_000  # how long a test waits for what a person would see


def status(page):
    """The connection pill in the top bar: Connecting…, Live, Reconnecting in 2 s…"""
    return page.locator("#status")


def open_group(page, name):
    page.get_by_role("list", name="Your groups").get_by_role("button", name=name).click()
    return page.locator(".chat")


def messages(page):
    """The text of every message in the open chat, in order."""
    return page.locator(".timeline .message .text")


def notices(page):
    return page.locator(".timeline .notice span")


def say(page, text):
    """Type a message into the open chat and press Enter."""
    box = page.get_by_role("textbox", name="Message")
    box.fill(text)
    box.press("Enter")


def both_in_chat(scene, person_page, owner, member, name="Design team", **group):
    """`owner`'s group `name` with `member` in it, both signed in with its chat open: their pages."""
    scene.group(owner, name, members=[member], **group)
    pages = person_page(owner), person_page(member)
    for page in pages:
        open_group(page, name)
    return pages
