"""Live presence: the server's `presence` frame, `GET /api/presence/`, `last_seen` in rows.

Who hears it (friends; members of groups up to RELAY_PRESENCE_MAX_MEMBERS) and who must
not (strangers, members of larger groups, the user themselves); a quick reconnect says
nothing (the debounce); the frame is numbered, so a socket that was away gets it on
resume; a process that is gone has its users announced offline by a live one.
"""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from accounts.actions import respond_to_friend_request, send_friend_request
from accounts.models import User
from relay import hub as relay_hub
from tests.conftest import err, group_with, ok
from tests.sockets import call, expect, nothing

pytestmark = pytest.mark.django_db(transaction=True)

DEBOUNCE = 0.4


@pytest.fixture(autouse=True)
def live_presence(settings):
    settings.RELAY_PRESENCE = True
    settings.RELAY_PRESENCE_DEBOUNCE = DEBOUNCE


def befriend(a, b):
    request, _ = send_friend_request(actor=a, target=b)
    respond_to_friend_request(actor=b, request=request, accept=True)


async def told(user, online, timeout=3):
    """Wait until `user`'s audience was told `online`."""
    async with asyncio.timeout(timeout):
        while (await User.objects.aget(pk=user.pk)).online is not online:
            await asyncio.sleep(0.02)


async def presence_of(comm, user, online, timeout=3):
    frame = await expect(comm, "presence", timeout=timeout)
    assert frame["user"]["id"] == user.pk and frame["online"] is online, frame
    assert frame["last_seen"], frame
    assert "seq" in frame  # numbered: replayed to a socket that was away
    return frame


async def test_co_members_hear_who_comes_and_goes_and_strangers_do_not(connect, alice, bob, charlie):
    await call(group_with, alice, bob)
    bobs, charlies = await connect(bob), await connect(charlie)
    await told(bob, True)
    alices = await connect(alice)
    await presence_of(bobs, alice, True)
    await nothing(charlies, alices, timeout=DEBOUNCE)  # a stranger, and herself
    await alices.disconnect()
    gone = await presence_of(bobs, alice, False)
    stored = await User.objects.aget(pk=alice.pk)
    assert stored.online is False and stored.last_seen is not None
    assert gone["last_seen"].startswith(str(stored.last_seen.year))
    await nothing(charlies, timeout=DEBOUNCE)


async def test_a_quick_reconnect_does_not_flap(connect, alice, bob):
    await call(group_with, alice, bob)
    bobs = await connect(bob)
    alices = await connect(alice)
    await presence_of(bobs, alice, True)
    await alices.disconnect()
    await connect(alice)  # back within the debounce
    await nothing(bobs, timeout=3 * DEBOUNCE)
    assert (await User.objects.aget(pk=alice.pk)).online is True


async def test_one_of_two_sockets_closing_is_no_news(connect, alice, bob):
    await call(group_with, alice, bob)
    bobs = await connect(bob)
    phone = await connect(alice)
    await presence_of(bobs, alice, True)
    await connect(alice)
    await phone.disconnect()
    await nothing(bobs, timeout=3 * DEBOUNCE)


async def test_friends_hear_it_and_members_of_large_groups_do_not(connect, settings, alice, bob, charlie, make_user):
    settings.RELAY_PRESENCE_MAX_MEMBERS = 3
    dave = await call(make_user)
    await call(group_with, alice, bob, charlie, dave)  # four members: too many
    await call(befriend, alice, charlie)
    bobs, charlies = await connect(bob), await connect(charlie)
    await connect(alice)
    await presence_of(charlies, alice, True)
    await nothing(bobs, timeout=DEBOUNCE)


async def test_a_socket_that_was_away_gets_the_presence_it_missed_on_resume(connect, alice, bob):
    await call(group_with, alice, bob)
    bobs = await connect(bob)
    position = bobs.first.get("seq")
    await bobs.disconnect()
    alices = await connect(alice)
    await told(alice, True)
    await alices.disconnect()
    await told(alice, False)
    back = await connect(bob, resume=position)
    frames = [await expect(back, "presence"), await expect(back, "presence")]
    assert [(f["user"]["id"], f["online"]) for f in frames] == [(alice.pk, True), (alice.pk, False)]


async def test_a_gone_process_has_its_users_announced_offline(connect, alice, bob):
    """On Redis: another process held Alice's socket and stopped without a word; the live
    process reaps it and tells Bob."""
    from django.conf import settings

    if not settings.REDIS_URL:
        pytest.skip("one process holds every socket without Redis")
    from relay.stream.presence import RedisPresence

    await call(group_with, alice, bob)
    bobs = await connect(bob)
    other = RedisPresence()  # the other process
    assert await other.admit(alice.pk, 1, 10)
    hub = await relay_hub.get_hub()
    await hub.liveness.sync([alice.pk])
    await presence_of(bobs, alice, True)
    await other.stop()  # gone: counted offline at once, reaped by a live process
    await hub.liveness.reap()
    await presence_of(bobs, alice, False)
    await other.redis.aclose()


# --- REST ----------------------------------------------------------------------------------------
def test_presence_answers_for_the_caller_friends_and_co_members_only(api, alice, bob, charlie, make_user):
    dave = make_user("dave")
    group_with(alice, bob)
    befriend(alice, dave)
    User.objects.filter(pk=dave.pk).update(last_seen="2026-12-01T10:00:00Z")
    data = ok(api(alice).get("/api/presence/", {"ids": f"{bob.pk},{charlie.pk},{dave.pk},{alice.pk},999999"}))
    rows = {row["user"]: row for row in data["results"]}
    assert set(rows) == {alice.pk, bob.pk, dave.pk}  # not a stranger, not someone who does not exist
    assert rows[dave.pk] == {"user": dave.pk, "online": False, "last_seen": "2026-12-01T10:00:00Z"}
    assert rows[bob.pk] == {"user": bob.pk, "online": False, "last_seen": None}  # never connected


@pytest.mark.parametrize("ids", ["", "x", "1,,-2", "1.5", ",".join(str(i) for i in range(1, 102))])
def test_presence_refuses_bad_ids_clearly(api, alice, ids):
    err(api(alice).get("/api/presence/", {"ids": ids}), 400, "validation_error")


def test_presence_needs_a_signed_in_caller(client):
    assert client.get("/api/presence/", {"ids": "1"}).status_code == 401


def test_member_and_friend_rows_carry_last_seen(api, alice, bob):
    chess = group_with(alice, bob)
    befriend(alice, bob)
    User.objects.filter(pk=bob.pk).update(last_seen="2026-12-02T08:30:00Z")
    members = {row["user"]["id"]: row for row in ok(api(alice).get(f"/api/groups/{chess.pk}/members/"))["results"]}
    assert members[bob.pk]["last_seen"] == "2026-12-02T08:30:00Z" and members[bob.pk]["online"] is False
    [friend] = ok(api(alice).get("/api/friends/"))["results"]
    assert friend["last_seen"] == "2026-12-02T08:30:00Z"


async def test_an_online_users_last_seen_is_now(connect, aapi, alice, bob):
    await call(group_with, alice, bob)
    await connect(bob)
    client = await aapi(alice)
    response = await sync_to_async(client.get)("/api/presence/", {"ids": str(bob.pk)})
    [row] = ok(response)["results"]
    assert row["online"] is True and row["last_seen"] is not None
