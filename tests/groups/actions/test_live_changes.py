"""Changes that now reach live clients (issue 23, item 5): `groupupdate` and `role` to a group's
members, `postedit` to a post's audience (as `postlike`); each relayed once, only when something
changed, and to nobody who may not see it.

REST for them: PATCH /api/groups/{id}/ (tests/groups/api/test_update_group.py), PATCH
/api/groups/{id}/members/{user_id}/ (tests/groups/api/test_member_role.py), PATCH /api/posts/{id}/
(tests/posts/api/test_edit_post.py). The live path through sockets is the last test here.
"""

import pytest

from groups import actions
from groups.models import Role
from posts import actions as post_actions
from tests.conftest import group_with, ok
from tests.sockets import call, expect, nothing, rest, user_shape

pytestmark = pytest.mark.django_db


def test_a_group_change_reaches_its_members(public_group, alice, capture_events):
    with capture_events.capture():
        actions.update_group(actor=alice, group=public_group, name="Renamed", description="rules")
    (relayed,) = capture_events
    assert relayed["groups"] == [public_group.pk] and relayed["users"] == [] and relayed["channels"] == []
    assert relayed["event"] == {"identifier": "kirimin", "type": "groupupdate", "groupid": public_group.pk,
                                "name": "Renamed", "description": "rules", "is_private": False}


def test_the_same_values_relay_nothing(public_group, alice, capture_events):
    with capture_events.capture():
        actions.update_group(actor=alice, group=public_group, name=public_group.name)
    assert capture_events == []


def test_made_private_the_subscribers_are_dropped_before_they_would_hear_of_it(public_group, alice, capture_events):
    with capture_events.capture():
        actions.update_group(actor=alice, group=public_group, is_private=True)
    assert [c["event"]["type"] for c in capture_events if c["event"]] == ["groupupdate"]
    assert capture_events[-1]["event"]["is_private"] is True


def test_a_role_change_reaches_the_members(public_group, alice, bob, capture_events):
    with capture_events.capture():
        actions.set_role(actor=alice, group=public_group, target=bob, role=Role.ADMIN)
        actions.set_role(actor=alice, group=public_group, target=bob, role=Role.ADMIN)  # no change: nothing
    (relayed,) = capture_events
    assert relayed["groups"] == [public_group.pk]
    assert relayed["event"] == {"identifier": "kirimin", "type": "role", "groupid": public_group.pk,
                                "user": user_shape(bob), "role": "admin", "by": user_shape(alice)}


def test_a_post_edit_reaches_the_audience_of_its_likes(public_group, private_group, alice, capture_events):
    public = post_actions.create_post(actor=alice, content="before")
    in_group = post_actions.create_post(actor=alice, content="before", group=private_group)
    with capture_events.capture():
        post_actions.edit_post(actor=alice, post=public, content="after")
        post_actions.edit_post(actor=alice, post=in_group, content="after")
        post_actions.edit_post(actor=alice, post=in_group, content="after")  # no change: nothing
    first, second = capture_events
    assert (first["users"], first["groups"], first["channels"]) == ([alice.pk], [], [f"post:{public.pk}"])
    # A private group's post: the group only, never `post:<id>` subscribers (who may have left).
    assert (second["users"], second["groups"], second["channels"]) == ([alice.pk], [private_group.pk], [])
    assert first["event"]["type"] == "postedit" and first["event"]["content"] == "after"
    assert first["event"]["postid"] == public.pk and first["event"]["author"] == user_shape(alice)
    assert first["event"]["edited_at"]


@pytest.mark.django_db(transaction=True)
async def test_members_see_a_rename_and_a_role_change_live_and_an_outsider_does_not(
        aapi, connect, alice, bob, charlie):
    group = await call(group_with, alice, bob)
    owner, member, outsider = await connect(alice), await connect(bob), await connect(charlie)
    client = await aapi(alice)
    ok(await rest(client, "patch", f"/api/groups/{group.pk}/", {"name": "Renamed"}))
    for comm in (owner, member):
        await expect(comm, "groupupdate", groupid=group.pk, name="Renamed")
    ok(await rest(client, "patch", f"/api/groups/{group.pk}/members/{bob.pk}/", {"role": "admin"}))
    for comm in (owner, member):
        await expect(comm, "role", groupid=group.pk, role="admin")
    await nothing(owner, member, outsider)
