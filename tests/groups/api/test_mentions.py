"""Mentions (issue 22, item 4): `@username` of a member sets `mentions`, raises `mention_count` and
notifies them, live and on replay."""

import pytest

from groups.reading import mark_read
from tests.conftest import group_with, ok, say
from tests.sockets import call, expect, nothing, recv_types, send

LIST = "/api/conversations/"


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
