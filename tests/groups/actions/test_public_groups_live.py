"""`groupcreate`: a public group appears live in the directory of public groups (the `groups`
channel, which anyone may follow, signed in or not), whether it was created public or made
public later; a private group never does."""

import pytest

from groups import actions
from groups.models import Group
from tests.conftest import group_with, ok
from tests.sockets import call, expect, nothing, rest, subscribe, user_shape

pytestmark = pytest.mark.django_db


def test_a_public_group_goes_to_the_directory_a_private_one_does_not(alice, capture_events):
    with capture_events.capture():
        club = actions.create_group(actor=alice, name="Chess club", description="Openings")
        actions.create_group(actor=alice, name="Secret", is_private=True)
    (entry,) = capture_events.of_type("groupcreate")
    assert (entry["users"], entry["groups"], entry["channels"]) == ([], [], ["groups"])
    assert entry["event"] == {"identifier": "kirimin", "type": "groupcreate", "groupid": club.pk, "name": "Chess club",
                              "description": "Openings", "owner": user_shape(alice), "members_count": 1}


def test_a_group_made_public_goes_to_the_directory_made_private_it_does_not(alice, bob, capture_events):
    group = group_with(alice, bob, private=True)
    with capture_events.capture():
        actions.update_group(actor=alice, group=group, is_private=False)
        actions.update_group(actor=alice, group=group, is_private=True)
        actions.update_group(actor=alice, group=group, name="Renamed")  # private: not in the directory
    (entry,) = capture_events.of_type("groupcreate")
    assert entry["channels"] == ["groups"] and entry["event"]["members_count"] == 2


@pytest.mark.django_db(transaction=True)
async def test_who_sees_a_new_public_group_live_and_who_does_not(aapi, connect, alice, bob, charlie):
    follower, anonymous, other = await connect(bob), await connect(), await connect(charlie)
    for comm in (follower, anonymous):
        await subscribe(comm, "groups")
    client = await aapi(alice)
    ok(await rest(client, "post", "/api/groups/", {"name": "Hidden", "is_private": True}), 201)
    created = ok(await rest(client, "post", "/api/groups/", {"name": "Open house"}), 201)
    for comm in (follower, anonymous):
        got = await expect(comm, "groupcreate", groupid=created["id"], name="Open house")
        assert got["owner"]["id"] == alice.pk and set(got["streams"]) == {"groups"}
    hidden = await call(Group.objects.get, name="Hidden")
    ok(await rest(client, "patch", f"/api/groups/{hidden.pk}/", {"is_private": False}))
    for comm in (follower, anonymous):
        await expect(comm, "groupcreate", groupid=hidden.pk, name="Hidden")
    await nothing(follower, anonymous, other, timeout=0.3)  # charlie follows nothing: told nothing
