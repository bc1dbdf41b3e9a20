"""The conversation list, `GET /api/conversations/` (issue 22, item 1): every group and direct
conversation of the caller, newest activity first, cursor-paged, with unread and mention counts,
in a constant number of queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.actions import join_group
from groups.models import Group, Membership
from tests.conftest import err, group_with, ok, say

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
