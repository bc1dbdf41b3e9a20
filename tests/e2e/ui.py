"""What a person sees in the demo SPA: locators and actions the e2e tests share."""

TIMEOUT_MS = 15_000  # how long a test waits for what a person would see

# An init script (before the demo runs): a record of every frame the demo's client emits, in
# `window.__kiriminFrames` (read by `received`). The demo publishes its client as
# `window.kirimin`; the setter hooks `on("*")` the moment it does, so nothing emitted is missed.
# The demo drops a message id it already shows and sorts by id, so what it renders cannot show a
# duplicate or a reordering from the relay; this record does.
FRAME_RECORDER = """
window.__kiriminFrames = [];
(() => {
  let client = null;
  Object.defineProperty(window, "kirimin", {
    configurable: true,
    get: () => client,
    set: (value) => {
      client = value;
      value.on("*", (frame) => window.__kiriminFrames.push(frame));
    },
  });
})();
"""


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


def received(page, type_):
    """Every frame of `type_` that the page's client emitted, in order (recorded by FRAME_RECORDER)."""
    return page.evaluate("(type) => window.__kiriminFrames.filter((frame) => frame.type === type)", type_)


def received_messages(page, group_id=None):
    """(id, text) of every `sendmessage` the page's client emitted, in order (of `group_id` if given)."""
    return [(frame["id"], frame["message"]) for frame in received(page, "sendmessage")
            if group_id is None or frame.get("groupid") == group_id]


def assert_received_once_in_order(page, texts, group_id=None):
    """The page's client emitted exactly these messages: each id once, ids increasing.

    Call it once the page shows a message sent after all of `texts` (frames arrive in order),
    so that a late duplicate would already be in the record."""
    got = received_messages(page, group_id)
    ids = [message_id for message_id, _ in got]
    assert len(set(ids)) == len(ids), f"a message was received more than once: {got}"
    assert ids == sorted(ids), f"messages were received out of order: {got}"
    assert [text for _, text in got] == list(texts), got
