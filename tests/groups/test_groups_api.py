"""REST for groups (SPEC §3): the list, reading a group, every bad path as an envelope, and the
authentication every group endpoint needs.

Creating, editing and deleting a group have a file each in tests/groups/api/
(test_create_group.py, test_update_group.py, test_delete_group.py), as have the membership
and message endpoints.
"""

import pytest

from groups.models import Group
from tests.conftest import GROUPS, detail, err, group_with, ok

pytestmark = pytest.mark.django_db


def names(data):
    return sorted(g["name"] for g in data["results"])


# --- list ---------------------------------------------------------------------------------------
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
