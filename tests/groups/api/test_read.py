"""Read state (issue 22, item 2): `POST /api/conversations/read/` and the socket's `read` frame move
the caller's marker forward only; the reader's other sockets get `unread`."""

import pytest

from groups.models import ReadMarker
from groups.reading import mark_read
from tests.conftest import err, group_with, ok, say
from tests.sockets import call, expect, nothing, recv_types, send

LIST = "/api/conversations/"
READ = "/api/conversations/read/"


# --- reading -------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_reading_moves_the_marker_forward_only(api, alice, bob):
    chess = group_with(alice, bob)
    first, second, third = (say(alice, t, group=chess) for t in ("a", "b", "c"))
    body = {"groupid": chess.pk, "message_id": second.pk}
    assert ok(api(bob).post(READ, body, format="json")) == {
        "groupid": chess.pk, "unread_count": 1, "mention_count": 0, "message_id": second.pk, "changed": True}
    back = ok(api(bob).post(READ, {"groupid": chess.pk, "message_id": first.pk}, format="json"))
    assert back == {"groupid": chess.pk, "unread_count": 1, "mention_count": 0, "message_id": second.pk,
                    "changed": False}
    [row] = ok(api(bob).get(LIST))["results"]
    assert (row["last_read_message_id"], row["unread_count"]) == (second.pk, 1)
    ok(api(bob).post(READ, {"groupid": chess.pk, "message_id": third.pk}, format="json"))
    assert ReadMarker.objects.get(user=bob).message_id == third.pk


@pytest.mark.django_db
def test_reading_a_direct_conversation(api, alice, bob):
    hello = say(bob, "hello", to=alice)
    say(bob, "are you there?", to=alice)
    data = ok(api(alice).post(READ, {"to": bob.pk, "message_id": hello.pk}, format="json"))
    assert data == {"with": bob.pk, "unread_count": 1, "mention_count": 0, "message_id": hello.pk, "changed": True}


@pytest.mark.django_db
def test_reading_what_is_not_yours_to_read(api, alice, bob, charlie):
    chess = group_with(alice, bob)
    secret = group_with(alice, private=True)
    mine = say(alice, "for chess", group=chess)
    dm = say(alice, "for bob", to=bob)
    err(api(charlie).post(READ, {"groupid": chess.pk, "message_id": mine.pk}, format="json"), 403, "forbidden")
    err(api(charlie).post(READ, {"groupid": secret.pk, "message_id": mine.pk}, format="json"), 404, "not_found")
    # A message of another conversation, or someone else's DM.
    err(api(bob).post(READ, {"groupid": chess.pk, "message_id": dm.pk}, format="json"), 404, "not_found")
    err(api(charlie).post(READ, {"to": alice.pk, "message_id": dm.pk}, format="json"), 404, "not_found")
    err(api(bob).post(READ, {"to": 999999, "message_id": dm.pk}, format="json"), 404, "not_found")
    assert not ReadMarker.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"message_id": 1}, {"groupid": 1, "to": 2, "message_id": 1},
                                  {"groupid": 1, "message_id": "x"}, {"groupid": 1, "message_id": -1}])
def test_a_malformed_read_is_a_validation_error(api, alice, body):
    err(api(alice).post(READ, body, format="json"), 400, "validation_error")


# --- read on one device, counts on every other ----------------------------------------------------
@pytest.mark.django_db(transaction=True)
async def test_a_read_frame_updates_the_readers_other_sockets_and_nobody_elses(connect, alice, bob):
    chess = await call(group_with, alice, bob)
    last = await call(say, alice, "one", group=chess)
    phone, laptop, author = await connect(bob), await connect(bob), await connect(alice)
    await send(phone, "read", groupid=chess.pk, message_id=last.pk, ref="r")
    frames = await recv_types(phone, "ack", "unread", "read")
    ack = frames["ack"]
    assert (ack["ref"], ack["unread_count"], ack["changed"], ack["message_id"]) == ("r", 0, True, last.pk)
    unread = await expect(laptop, "unread")
    assert (unread["groupid"], unread["unread_count"], unread["mention_count"]) == (chess.pk, 0, 0)
    assert "seq" in unread  # numbered: a device that was away gets it on resume
    await expect(laptop, "read")  # the group's read receipt reaches every member, the reader too
    receipt = await expect(author, "read")  # the author gets no `unread`: only the receipt
    assert (receipt["groupid"], receipt["user"]["id"], receipt["message_id"]) == (chess.pk, bob.pk, last.pk)
    await nothing(author, timeout=0.5)
    # Reading it again changes and relays nothing.
    await send(phone, "read", groupid=chess.pk, message_id=last.pk, ref="again")
    assert (await expect(phone, "ack", ref="again"))["changed"] is False
    await nothing(laptop, timeout=0.5)


@pytest.mark.django_db(transaction=True)
async def test_a_rest_read_reaches_the_readers_sockets(connect, alice, bob):
    dm = await call(say, alice, "psst", to=bob)
    comm = await connect(bob)
    await call(mark_read, actor=bob, to_id=alice.pk, message_id=dm.pk)
    unread = await expect(comm, "unread")
    assert unread["with"] == alice.pk and unread["unread_count"] == 0


@pytest.mark.django_db(transaction=True)
async def test_a_bad_read_frame_is_an_error_frame(connect, alice, bob):
    comm = await connect(bob)
    await send(comm, "read", groupid=1, ref="x")
    assert (await expect(comm, "error", ref="x"))["code"] == "invalid_frame"
    await send(comm, "read", to=alice.pk, message_id=123456, ref="y")
    assert (await expect(comm, "error", ref="y"))["code"] == "not_found"
