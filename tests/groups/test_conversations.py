"""The conversation list (`GET /api/conversations/`) and read state (`POST /api/conversations/read/`,
the socket's `read` frame, the server's `unread` frame)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.actions import join_group, mark_read
from groups.models import Group, Membership, ReadMarker
from tests.conftest import err, group_with, ok, say
from tests.sockets import call, expect, nothing, recv_types, send

LIST = "/api/conversations/"
READ = "/api/conversations/read/"


def kinds(data):
    return [(c["kind"], c["group"]["id"] if c["kind"] == "group" else c["user"]["id"]) for c in data["results"]]


# --- the list ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_groups_and_direct_conversations_newest_activity_first(api, alice, bob, charlie):
    chess = group_with(alice, bob, name="chess")
    quiet = group_with(alice, name="quiet")
    say(bob, "hi alice", to=alice)
    say(bob, "chess tonight?", group=chess)
    say(alice, "hello charlie", to=charlie)
    data = ok(api(alice).get(LIST))
    assert kinds(data) == [("direct", charlie.pk), ("group", chess.pk), ("direct", bob.pk), ("group", quiet.pk)]
    assert data["next"] is None and data["previous"] is None
    by_key = {key: c for key, c in zip(kinds(data), data["results"], strict=True)}
    dm = by_key[("direct", bob.pk)]
    assert dm["user"] == {"id": bob.pk, "username": "bob", "display_name": "Bob"}
    assert dm["last_message"]["message"] == "hi alice" and dm["last_message"]["to"] == alice.pk
    assert (dm["unread_count"], dm["mention_count"], dm["last_read_message_id"]) == (1, 0, 0)
    mine = by_key[("direct", charlie.pk)]
    assert mine["unread_count"] == 0  # her own message
    group = by_key[("group", chess.pk)]
    assert group["group"] == {"id": chess.pk, "name": "chess", "is_private": False}
    assert group["unread_count"] == 1 and group["last_message"]["groupid"] == chess.pk
    assert by_key[("group", quiet.pk)]["last_message"] is None


@pytest.mark.django_db
def test_others_conversations_never_show(api, alice, bob, charlie):
    secret = group_with(bob, charlie, private=True)
    say(bob, "between us", to=charlie)
    say(charlie, "shh", group=secret)
    assert ok(api(alice).get(LIST))["results"] == []


@pytest.mark.django_db
def test_a_group_counts_unread_only_since_the_member_joined(api, alice, bob):
    chess = group_with(alice, name="chess")
    for i in range(3):
        say(alice, f"before {i}", group=chess)
    join_group(actor=bob, group=chess)
    Membership.objects.filter(user=bob).update(joined_at=Membership.objects.get(user=bob).joined_at)
    say(alice, "after", group=chess)
    [row] = ok(api(bob).get(LIST))["results"]
    assert row["unread_count"] == 1


@pytest.mark.django_db
def test_the_list_pages_by_cursor(api, alice, make_user):
    people = [make_user() for _ in range(5)]
    for person in people:
        say(person, "hi", to=alice)
    first = ok(api(alice).get(LIST, {"limit": 2}))
    assert [c["user"]["id"] for c in first["results"]] == [people[4].pk, people[3].pk]
    second = ok(api(alice).get(first["next"]))
    third = ok(api(alice).get(second["next"]))
    assert [c["user"]["id"] for c in second["results"] + third["results"]] == [p.pk for p in people[2::-1]]
    assert third["next"] is None


@pytest.mark.django_db
@pytest.mark.parametrize("query", [{"cursor": "abc"}, {"cursor": "1.2"}, {"cursor": "1.1.-1"}, {"limit": 0},
                                   {"limit": 101}])
def test_a_bad_cursor_or_limit_is_a_validation_error(api, alice, query):
    err(api(alice).get(LIST, query), 400, "validation_error")


def test_anonymous_callers_get_401(client, db):
    assert client.get(LIST).status_code == 401
    assert client.post(READ, {}, content_type="application/json").status_code == 401


@pytest.mark.django_db
def test_the_lists_queries_do_not_grow_with_conversations(api, alice, make_user):
    made = []

    def queries(n):
        while len(made) < n:  # a group with a message, then a direct conversation, in turn
            if len(made) % 2:
                peer = make_user()
                say(peer, "hello", to=alice)
                made.append(peer)
            else:
                group = Group.objects.create(name="g", owner=alice)
                Membership.objects.create(group=group, user=alice)
                say(alice, "hi", group=group)
                made.append(group)
        client = api(alice)
        with CaptureQueriesContext(connection) as captured:
            data = ok(client.get(LIST, {"limit": 100}))
        assert len(data["results"]) == min(n, 100)
        return len(captured)

    few, many = queries(3), queries(300)
    assert few == many, (few, many)


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


# --- mentions ------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_a_mention_of_a_member_is_stored_counted_and_notified(api, alice, bob, charlie):
    from accounts.models import Notification

    chess = group_with(alice, bob, name="chess")
    msg = say(alice, "@Bob, are you in? @charlie @alice @nobody bob@example.com", group=chess)
    data = ok(api(bob).get(f"/api/groups/{chess.pk}/messages/"))
    assert data["results"][0]["mentions"] == [bob.pk]  # not charlie (no member), not herself, not an e-mail
    [row] = ok(api(bob).get(LIST))["results"]
    assert (row["unread_count"], row["mention_count"]) == (1, 1)
    assert row["last_message"]["mentions"] == [bob.pk]
    [note] = Notification.objects.filter(user=bob)
    assert note.kind == "mention" and note.data == {"groupid": chess.pk, "message_id": msg.pk, "from": alice.pk}
    assert not Notification.objects.filter(user=charlie).exists()
    state = mark_read(actor=bob, group_id=chess.pk, message_id=msg.pk)
    assert (state["unread_count"], state["mention_count"]) == (0, 0)


@pytest.mark.django_db
def test_messages_without_mentions_carry_no_mentions_field(api, alice, bob):
    chess = group_with(alice, bob)
    say(alice, "plain", group=chess)
    say(alice, "to @bob directly", to=bob)  # direct messages mention nobody
    assert "mentions" not in ok(api(bob).get(f"/api/groups/{chess.pk}/messages/"))["results"][0]
    assert "mentions" not in ok(api(bob).get("/api/messages/", {"with": alice.pk}))["results"][0]


@pytest.mark.django_db(transaction=True)
async def test_the_live_message_carries_its_mentions_and_the_member_is_notified(connect, alice, bob, charlie):
    chess = await call(group_with, alice, bob, charlie)
    author, member, other = await connect(alice), await connect(bob), await connect(charlie)
    await send(author, "sendmessage", groupid=chess.pk, message="hey @bob", ref="m")
    assert (await recv_types(author, "ack", "sendmessage"))["sendmessage"]["mentions"] == [bob.pk]
    frames = await recv_types(member, "sendmessage", "notification")
    assert frames["sendmessage"]["mentions"] == [bob.pk]
    assert frames["notification"]["kind"] == "mention"
    assert (await expect(other, "sendmessage"))["mentions"] == [bob.pk]
    await nothing(other, timeout=0.5)  # charlie is not mentioned: no notification


@pytest.mark.django_db(transaction=True)
async def test_a_since_replay_carries_the_mentions(connect, alice, bob):
    chess = await call(group_with, alice, bob)
    before = await call(say, alice, "before", group=chess)
    await call(say, alice, "ping @bob", group=chess)
    comm = await connect(bob, since=before.pk)
    assert (await expect(comm, "sendmessage"))["mentions"] == [bob.pk]


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
