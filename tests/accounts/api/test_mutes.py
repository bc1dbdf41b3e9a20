"""Mutes (issue 23, item 2): `POST /api/mutes/` (`user_id`, optional `expires_in`),
`DELETE /api/mutes/{user_id}/`, `GET /api/mutes/`.

While alice mutes bob she gets no notifications and no unread counts from him, and his
messages reach her marked `muted`; bob is never told, and nobody else sees a difference.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import actions
from accounts.models import Mute, Notification
from groups.messaging import edit_message
from posts.actions import like_post
from tests.conftest import err, group_with, ok, say
from tests.sockets import call, expect, unnumbered, user_shape

pytestmark = pytest.mark.django_db

MUTES = "/api/mutes/"


def mute(client, user, **extra):
    return client.post(MUTES, {"user_id": user.pk, **extra}, format="json")


def test_mute_list_renew_and_unmute(api, alice, bob, charlie):
    made = ok(mute(api(alice), bob), 201)
    assert made["user"]["id"] == bob.pk and made["expires_at"] is None
    renewed = ok(mute(api(alice), bob, expires_in=3600), 200)  # again: the new end
    assert renewed["expires_at"] is not None
    ok(mute(api(alice), charlie), 201)
    assert [row["user"]["id"] for row in ok(api(alice).get(MUTES))["results"]] == [charlie.pk, bob.pk]
    assert ok(api(alice).delete(f"{MUTES}{bob.pk}/")) == {"user_id": bob.pk, "changed": True}
    assert ok(api(alice).delete(f"{MUTES}{bob.pk}/")) == {"user_id": bob.pk, "changed": False}


def test_bad_input_gets_a_clear_error(api, alice, bob, anon):
    err(mute(api(alice), alice), 400, "validation_error")
    err(mute(api(alice), bob, expires_in=0), 400, "validation_error")
    err(mute(api(alice), bob, expires_in="soon"), 400, "validation_error")
    err(api(alice).post(MUTES, {"user_id": 999999}, format="json"), 404, "not_found")
    err(anon.post(MUTES, {"user_id": bob.pk}, format="json"), 401, "not_authenticated")
    assert not Mute.objects.exists()


def test_an_ended_mute_is_gone_from_the_list_and_muting_again_is_new(api, alice, bob):
    actions.mute(actor=alice, target=bob, expires_in=60)
    Mute.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert ok(api(alice).get(MUTES))["results"] == []
    assert ok(api(alice).delete(f"{MUTES}{bob.pk}/"))["changed"] is False  # it had ended
    ok(mute(api(alice), bob), 201)


def test_no_notifications_from_a_muted_user(alice, bob, charlie, make_post):
    group = group_with(alice, bob, charlie)
    post = make_post(alice, group=group)
    actions.mute(actor=alice, target=bob)
    like_post(actor=bob, post=post)
    say(bob, "@alice look", group=group)
    actions.send_friend_request(actor=bob, target=alice)  # the request stands; no notification of it
    like_post(actor=charlie, post=post)
    assert list(Notification.objects.filter(user=alice).values_list("kind", "data__userid")) == [("like", charlie.pk)]


def test_no_unread_counts_from_a_muted_user_until_the_mute_ends(api, alice, bob, charlie):
    group = group_with(alice, bob, charlie)
    actions.mute(actor=alice, target=bob, expires_in=60)
    say(bob, "@alice hi", group=group)
    say(bob, "psst", to=alice)

    def counts():
        return sorted((row["kind"], row["unread_count"], row["mention_count"])
                      for row in ok(api(alice).get("/api/conversations/"))["results"])

    assert counts() == [("direct", 0, 0), ("group", 0, 0)]
    Mute.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert counts() == [("direct", 1, 0), ("group", 1, 1)]


def test_messages_from_a_muted_user_are_marked_for_the_muter_only(alice, bob, charlie, capture_events):
    group = group_with(alice, bob, charlie)
    actions.mute(actor=alice, target=bob)
    with capture_events.capture():
        say(bob, "to the group", group=group)
        say(bob, "to alice", to=alice)
        say(charlie, "from charlie", group=group)
    by_bob = [e["variants"] for e in capture_events.of_type("sendmessage") if e["event"]["from"]["id"] == bob.pk]
    assert by_bob == [{str(alice.pk): "m"}, {str(alice.pk): "m"}]
    assert [e for e in capture_events.of_type("sendmessage") if "variants" in e and e["event"]["from"]["id"] == charlie.pk] == []


def test_history_marks_the_muted_users_messages_for_the_muter_only(api, alice, bob):
    actions.mute(actor=alice, target=bob)
    say(bob, "psst", to=alice)
    say(alice, "yes?", to=bob)
    mine = ok(api(alice).get(f"/api/messages/?with={bob.pk}"))["results"]
    assert sorted((m["message"], m.get("muted")) for m in mine) == [("psst", True), ("yes?", None)]
    theirs = ok(api(bob).get(f"/api/messages/?with={alice.pk}"))["results"]
    assert [m.get("muted") for m in theirs] == [None, None]


@pytest.mark.django_db(transaction=True)
async def test_the_muter_sees_muted_and_their_other_sockets_hear_of_it(connect, alice, bob, charlie):
    group = await call(group_with, alice, bob, charlie)
    mine, phone, other = await connect(alice), await connect(alice), await connect(charlie)
    await call(actions.mute, actor=alice, target=bob)
    for comm in (mine, phone):
        assert unnumbered(await expect(comm, "mute")) == {
            "identifier": "kirimin", "type": "mute", "user": user_shape(bob), "muted": True, "expires_at": None}
    message = await call(say, bob, "hello", group=group)
    assert (await expect(mine, "sendmessage", id=message.pk))["muted"] is True
    assert "muted" not in await expect(other, "sendmessage", id=message.pk)
    assert await call(edit_message, actor=bob, message=message, body="hello, edited")
    assert (await expect(mine, "editmessage", id=message.pk))["muted"] is True
