"""REST for groups (SPEC §3): create, list, read, edit, delete, and every bad input as an envelope."""

import pytest

from groups.models import Group, Membership, Role
from tests.conftest import err, group_with, ok
from tests.sockets import user_shape

pytestmark = pytest.mark.django_db

GROUPS = "/api/groups/"


def detail(group):
    return f"{GROUPS}{group.pk}/"


def names(data):
    return sorted(g["name"] for g in data["results"])


# --- create -----------------------------------------------------------------------------------
def test_creator_becomes_the_owner(api, alice):
    data = ok(api(alice).post(GROUPS, {"name": "  Chess  ", "description": "64 squares"}, format="json"), 201)

    group = Group.objects.get()
    assert data["id"] == group.pk and group.owner == alice
    assert data["name"] == "Chess" and data["description"] == "64 squares" and data["is_private"] is False
    assert data["owner"] == user_shape(alice)
    assert data["members_count"] == 1 and data["my_role"] == "owner"
    assert data["created_at"].endswith("Z")
    assert Membership.objects.get(group=group).user == alice
    assert Membership.objects.get(group=group).role == Role.OWNER


def test_it_creates_a_private_group(api, alice):
    data = ok(api(alice).post(GROUPS, {"name": "Secret", "is_private": True}, format="json"), 201)
    assert data["is_private"] is True and Group.objects.get().is_private


@pytest.mark.parametrize("body, field", [
    ({}, "name"),
    ({"name": ""}, "name"),
    ({"name": "    "}, "name"),
    ({"name": None}, "name"),
    ({"name": ["Chess"]}, "name"),
    ({"name": {"x": 1}}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"name": "ok\x00"}, "name"),
    ({"name": "Chess", "is_private": "maybe"}, "is_private"),
    ({"name": "Chess", "is_private": [True]}, "is_private"),
    ({"name": "Chess", "description": ["x"]}, "description"),
    ({"name": "Chess", "description": "x" * 2001}, "description"),
])
def test_invalid_group_is_a_validation_error_and_creates_nothing(api, alice, body, field):
    body = err(api(alice).post(GROUPS, body, format="json"), 400, "validation_error")
    assert field in body["details"]
    assert not Group.objects.exists() and not Membership.objects.exists()


def test_a_non_object_body_is_a_validation_error(api, alice):
    err(api(alice).post(GROUPS, ["Chess"], format="json"), 400, "validation_error")
    assert not Group.objects.exists()


def test_malformed_json_is_refused(api, alice):
    response = api(alice).post(GROUPS, '{"name": ', content_type="application/json")
    assert response.status_code == 400 and response.json()["data"] is None
    assert not Group.objects.exists()


# --- list ---------------------------------------------------------------------------------------
@pytest.fixture
def scene(alice, bob, charlie):
    """Public and private groups of alice and of charlie; bob is in alice's two."""
    return {
        "alice_public": group_with(alice, bob, name="alice public"),
        "alice_private": group_with(alice, bob, private=True, name="alice private"),
        "charlie_public": group_with(charlie, name="charlie public"),
        "charlie_private": group_with(charlie, private=True, name="charlie private"),
    }


def test_list_shows_public_groups_and_mine_but_not_others_private(api, bob, charlie, scene):
    assert names(ok(api(bob).get(GROUPS))) == ["alice private", "alice public", "charlie public"]
    assert names(ok(api(charlie).get(GROUPS))) == ["alice public", "charlie private", "charlie public"]


def test_list_is_newest_first_with_counts_and_my_role(api, bob, scene):
    results = ok(api(bob).get(GROUPS))["results"]
    assert [g["id"] for g in results] == sorted((g["id"] for g in results), reverse=True)
    by_name = {g["name"]: g for g in results}
    assert by_name["alice public"]["members_count"] == 2 and by_name["alice public"]["my_role"] == "member"
    assert by_name["charlie public"]["members_count"] == 1 and by_name["charlie public"]["my_role"] is None


def test_mine_lists_only_my_groups(api, bob, charlie, make_user, scene):
    assert names(ok(api(bob).get(GROUPS, {"mine": "1"}))) == ["alice private", "alice public"]
    assert names(ok(api(charlie).get(GROUPS, {"mine": "true"}))) == ["charlie private", "charlie public"]
    assert names(ok(api(make_user()).get(GROUPS, {"mine": "1"}))) == []


def test_q_filters_by_name_case_insensitively(api, bob, scene):
    assert names(ok(api(bob).get(GROUPS, {"q": "ALICE"}))) == ["alice private", "alice public"]
    assert names(ok(api(bob).get(GROUPS, {"q": "private"}))) == ["alice private"]  # charlie's stays hidden
    assert names(ok(api(bob).get(GROUPS, {"q": "  public "}))) == ["alice public", "charlie public"]
    assert names(ok(api(bob).get(GROUPS, {"q": "nothing like it"}))) == []


def test_q_with_a_nul_character_is_a_validation_error_not_a_500(api, bob, scene):
    body = err(api(bob).get(f"{GROUPS}?q=a%00b"), 400, "validation_error")
    assert "q" in body["details"]


def test_list_is_cursor_paginated(api, alice):
    for i in range(5):
        group_with(alice, name=f"g{i}")
    first = ok(api(alice).get(GROUPS, {"limit": 2}))
    assert [g["name"] for g in first["results"]] == ["g4", "g3"]
    assert first["previous"] is None and first["next"]
    second = ok(api(alice).get(first["next"]))
    assert [g["name"] for g in second["results"]] == ["g2", "g1"]
    third = ok(api(alice).get(second["next"]))
    assert [g["name"] for g in third["results"]] == ["g0"] and third["next"] is None


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "1.5", ""])
def test_limit_outside_1_to_100_is_a_validation_error(api, alice, limit):
    body = err(api(alice).get(f"{GROUPS}?limit={limit}"), 400, "validation_error")
    assert "limit" in body["details"]


@pytest.mark.parametrize("limit", ["1", "100"])
def test_limit_bounds_are_accepted(api, alice, limit):
    group_with(alice)
    assert len(ok(api(alice).get(GROUPS, {"limit": limit}))["results"]) == 1


def test_a_forged_cursor_is_a_validation_error(api, alice):
    err(api(alice).get(GROUPS, {"cursor": "not-a-cursor"}), 400, "validation_error")


# --- retrieve -------------------------------------------------------------------------------
def test_anyone_signed_in_reads_a_public_group(api, charlie, scene):
    data = ok(api(charlie).get(detail(scene["alice_public"])))
    assert data["name"] == "alice public" and data["members_count"] == 2 and data["my_role"] is None


def test_a_member_reads_a_private_group(api, bob, scene):
    data = ok(api(bob).get(detail(scene["alice_private"])))
    assert data["is_private"] is True and data["my_role"] == "member"


def test_a_private_group_is_not_found_for_outsiders(api, charlie, scene):
    hidden = err(api(charlie).get(detail(scene["alice_private"])), 404, "not_found")
    missing = err(api(charlie).get(f"{GROUPS}999999/"), 404, "not_found")
    assert hidden["message"] == missing["message"]  # the id leaks nothing


@pytest.mark.parametrize("raw", ["abc", "1.5", "-1", "0x1", "9" * 30, "%C2%B2", "%00"])
def test_a_malformed_id_in_the_path_is_a_404_envelope(api, alice, raw):
    for suffix in ("", "join/", "leave/", "kick/", "members/", "messages/"):
        err(api(alice).get(f"{GROUPS}{raw}/{suffix}"), 404, "not_found")
        err(api(alice).post(f"{GROUPS}{raw}/{suffix}", {}, format="json"), 404, "not_found")


def test_a_huge_but_well_formed_id_is_a_404(api, alice):
    err(api(alice).get(f"{GROUPS}{'9' * 18}/"), 404, "not_found")
    err(api(alice).post(f"{GROUPS}{'9' * 18}/join/"), 404, "not_found")


def test_a_path_without_its_trailing_slash_is_a_404_envelope(api, alice, scene):
    err(api(alice).get(f"{GROUPS}{scene['alice_public'].pk}"), 404, "not_found")


# --- edit ---------------------------------------------------------------------------------------
def test_owner_edits_the_group(api, alice, scene):
    group = scene["alice_public"]
    data = ok(api(alice).patch(detail(group), {"name": "Renamed", "is_private": True}, format="json"))
    assert data["name"] == "Renamed" and data["is_private"] is True and data["description"] == ""
    group.refresh_from_db()
    assert group.name == "Renamed" and group.is_private


def test_an_admin_edits_the_group(api, alice, bob, scene):
    group = scene["alice_public"]
    Membership.objects.filter(group=group, user=bob).update(role=Role.ADMIN)
    data = ok(api(bob).patch(detail(group), {"description": "now with rules"}, format="json"))
    assert data["description"] == "now with rules" and data["name"] == "alice public"


def test_a_member_cannot_edit(api, bob, scene):
    group = scene["alice_public"]
    err(api(bob).patch(detail(group), {"name": "Mine now"}, format="json"), 403, "forbidden")
    group.refresh_from_db()
    assert group.name == "alice public"


def test_an_outsider_cannot_edit(api, charlie, scene):
    err(api(charlie).patch(detail(scene["alice_public"]), {"name": "x"}, format="json"), 403, "forbidden")
    err(api(charlie).patch(detail(scene["alice_private"]), {"name": "x"}, format="json"), 404, "not_found")
    assert Group.objects.get(pk=scene["alice_private"].pk).name == "alice private"


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "   "}, {"name": None}, {"is_private": "maybe"},
                                  {"name": 5 * ["x"]}])
def test_an_invalid_edit_changes_nothing(api, alice, scene, body):
    group = scene["alice_public"]
    err(api(alice).patch(detail(group), body, format="json"), 400, "validation_error")
    group.refresh_from_db()
    assert group.name == "alice public" and not group.is_private


def test_put_is_not_allowed(api, alice, scene):
    err(api(alice).put(detail(scene["alice_public"]), {"name": "x"}, format="json"), 405, "method_not_allowed")


# --- delete -------------------------------------------------------------------------------
def test_owner_deletes_the_group(api, alice, scene):
    group = scene["alice_public"]
    assert ok(api(alice).delete(detail(group))) is None
    assert not Group.objects.filter(pk=group.pk).exists()
    assert not Membership.objects.filter(group_id=group.pk).exists()
    err(api(alice).get(detail(group)), 404, "not_found")


def test_only_the_owner_deletes(api, bob, charlie, scene):
    group = scene["alice_public"]
    Membership.objects.filter(group=group, user=bob).update(role=Role.ADMIN)
    err(api(bob).delete(detail(group)), 403, "forbidden")
    err(api(charlie).delete(detail(group)), 403, "forbidden")
    err(api(charlie).delete(detail(scene["alice_private"])), 404, "not_found")
    assert Group.objects.filter(pk__in=[group.pk, scene["alice_private"].pk]).count() == 2


def test_staff_delete_a_group_only_with_the_desks_permission_and_an_audit_row(api, make_user, scene):
    """Being staff is not a permission: REST goes through the moderation desk's check and audit."""
    from moderation.models import ModerationLog

    group = scene["alice_public"]
    err(api(make_user("intern", is_staff=True)).delete(detail(group)), 403, "forbidden")
    assert Group.objects.filter(pk=group.pk).exists() and not ModerationLog.objects.exists()
    moderator = make_user("mod", is_staff=True, perms=["groups.delete_group"])
    assert ok(api(moderator).delete(detail(group), {"reason": "abandoned spam group"}, format="json")) is None
    assert not Group.objects.filter(pk=group.pk).exists()
    entry = ModerationLog.objects.get()
    assert (entry.moderator, entry.action, entry.target_type, entry.target_id, entry.reason) == (
        moderator, "delete_group", "group", group.pk, "abandoned spam group")


# --- authentication -------------------------------------------------------------------------
@pytest.mark.parametrize("method, suffix", [
    ("get", ""), ("post", ""), ("get", "{id}/"), ("patch", "{id}/"), ("delete", "{id}/"),
    ("post", "{id}/join/"), ("post", "{id}/leave/"), ("post", "{id}/kick/"),
    ("get", "{id}/members/"), ("post", "{id}/members/"), ("patch", "{id}/members/{uid}/"),
    ("get", "{id}/messages/"), ("post", "{id}/messages/"),
])
def test_every_group_endpoint_needs_a_signed_in_user(anon, alice, scene, method, suffix):
    url = GROUPS + suffix.format(id=scene["alice_public"].pk, uid=alice.pk)
    err(getattr(anon, method)(url, {}, format="json"), 401, "not_authenticated")
    anon.credentials(HTTP_AUTHORIZATION="Bearer not-a-jwt")
    err(getattr(anon, method)(url, {}, format="json"), 401, "invalid_token")
    assert Group.objects.count() == 4
