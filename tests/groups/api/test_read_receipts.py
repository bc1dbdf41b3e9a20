"""Read receipts (issue 22, item 3): the server's `read` frame to the other person of a DM and to the
members of small groups, `GET /api/groups/{id}/messages/{message_id}/reads/`, and the setting that
turns sending them off."""

import pytest

from groups.reading import mark_read
from tests.conftest import err, group_with, ok, say
from tests.sockets import call, expect, nothing

READ = "/api/conversations/read/"


# --- read receipts -------------------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_a_direct_read_receipt_reaches_the_other_person(connect, alice, bob, charlie):
    dm = await call(say, alice, "psst", to=bob)
    sender, outsider = await connect(alice), await connect(charlie)
    await call(mark_read, actor=bob, to_id=alice.pk, message_id=dm.pk)
    receipt = await expect(sender, "read")
    assert (receipt["with"], receipt["user"]["id"], receipt["message_id"]) == (bob.pk, bob.pk, dm.pk)
    assert receipt["at"].endswith("Z") and "seq" in receipt
    await nothing(sender, outsider, timeout=0.5)


@pytest.mark.django_db(transaction=True)
async def test_no_receipt_from_who_turned_them_off_nor_to_a_large_group(connect, api, settings, alice, bob, charlie):
    ok(await call(lambda: api(bob).patch("/api/me/settings/", {"read_receipts": False}, format="json")))
    await call(bob.refresh_from_db)
    dm = await call(say, alice, "psst", to=bob)
    chess = await call(group_with, alice, bob, charlie)
    big = await call(say, alice, "hello all", group=chess)
    sender = await connect(alice)
    await call(mark_read, actor=bob, to_id=alice.pk, message_id=dm.pk)
    await call(mark_read, actor=bob, group_id=chess.pk, message_id=big.pk)
    settings.RELAY_READ_RECEIPTS_MAX_MEMBERS = 2  # chess has 3
    await call(mark_read, actor=charlie, group_id=chess.pk, message_id=big.pk)
    await nothing(sender, timeout=0.5)


@pytest.mark.django_db
def test_members_see_who_has_read_a_message(api, alice, bob, charlie, make_user):
    dave = make_user("dave")
    chess = group_with(alice, bob, charlie, dave)
    first, second = say(alice, "one", group=chess), say(alice, "two", group=chess)
    mark_read(actor=bob, group_id=chess.pk, message_id=second.pk)
    mark_read(actor=charlie, group_id=chess.pk, message_id=first.pk)
    mark_read(actor=dave, group_id=chess.pk, message_id=second.pk)
    ok(api(dave).patch("/api/me/settings/", {"read_receipts": False}, format="json"))
    url = f"/api/groups/{chess.pk}/messages/{{}}/reads/"
    readers = ok(api(alice).get(url.format(first.pk)))["results"]
    assert sorted(r["user"]["id"] for r in readers) == [bob.pk, charlie.pk]
    assert [r["user"]["id"] for r in ok(api(bob).get(url.format(second.pk)))["results"]] == [bob.pk]
    err(api(make_user()).get(url.format(first.pk)), 403, "forbidden")
    err(api(alice).get(url.format(999999)), 404, "not_found")
    other = say(alice, "elsewhere", to=bob)
    err(api(alice).get(url.format(other.pk)), 404, "not_found")


@pytest.mark.django_db
def test_settings_read_and_change_with_strict_booleans(api, alice):
    assert ok(api(alice).get("/api/me/settings/")) == {"read_receipts": True}
    assert ok(api(alice).patch("/api/me/settings/", {"read_receipts": False}, format="json")) == {
        "read_receipts": False}
    assert ok(api(alice).patch("/api/me/settings/", {}, format="json")) == {"read_receipts": False}
    err(api(alice).patch("/api/me/settings/", {"read_receipts": "nope"}, format="json"), 400, "validation_error")
    alice.refresh_from_db()
    assert alice.read_receipts is False
