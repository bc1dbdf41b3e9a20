"""`GET /api/events/`: the stream for REST consumers, the same entries a socket gets."""

import threading
import time

import pytest

from groups import actions as group_actions
from groups import messaging as group_messaging
from tests.conftest import err, group_with, ok

URL = "/api/events/"
pytestmark = pytest.mark.django_db(transaction=True)


def say(user, group, text):
    return group_messaging.send_message(actor=user, body=text, group_id=group.pk)


def test_without_after_it_tells_where_the_stream_stands(api, alice, bob):
    group = group_with(alice, bob)
    say(alice, group, "before")
    data = ok(api(bob).get(URL))
    assert data["results"] == [] and data["cursor"] > 0 and data["next"] is None


def test_it_pages_through_what_the_user_was_entitled_to_oldest_first(api, alice, bob, charlie):
    group, hidden = group_with(alice, bob), group_with(alice, charlie)
    start = ok(api(bob).get(URL))["cursor"]
    sent = [say(alice, group, f"m{i}").pk for i in range(5)]
    say(alice, hidden, "not bob's")
    first = ok(api(bob).get(URL, {"after": start, "limit": 3}))
    assert [f["id"] for f in first["results"]] == sent[:3]
    assert all(f["type"] == "sendmessage" and f["seq"] > start for f in first["results"])
    assert first["next"] and first["cursor"] == first["results"][-1]["seq"]
    rest = ok(api(bob).get(first["next"]))
    assert [f["id"] for f in rest["results"]] == sent[3:] and rest["next"] is None
    assert ok(api(bob).get(URL, {"after": rest["cursor"]}))["results"] == []


def test_a_kicked_member_gets_the_kick_and_nothing_of_the_group_after(api, alice, bob):
    group = group_with(alice, bob)
    start = ok(api(bob).get(URL))["cursor"]
    before = say(alice, group, "before").pk
    group_actions.kick_member(actor=alice, group=group, target=bob)
    say(alice, group, "after")
    frames = ok(api(bob).get(URL, {"after": start}))["results"]
    assert [f["type"] for f in frames] == ["sendmessage", "kick", "notification"]
    assert frames[0]["id"] == before


def test_wait_holds_an_empty_answer_until_an_event_comes(api, alice, bob):
    group = group_with(alice, bob)
    start = ok(api(bob).get(URL))["cursor"]
    timer = threading.Timer(0.5, say, (alice, group, "later"))
    timer.start()
    began = time.monotonic()
    data = ok(api(bob).get(URL, {"after": start, "wait": 5}))
    timer.join()
    assert [f["message"] for f in data["results"]] == ["later"]
    assert 0.4 < time.monotonic() - began < 4


def test_a_position_older_than_the_stream_keeps_is_gone(api, alice, bob, settings):
    group = group_with(alice, bob)
    say(alice, group, "old")
    from relay.stream import read

    read.trim(time.time() + 1)  # everything stored so far is past retention
    body = err(api(bob).get(URL, {"after": 0}), 410, "gone")
    assert body["details"]["cursor"] > 0


@pytest.mark.parametrize("query", [{"after": "x"}, {"after": "-1"}, {"limit": "0"}, {"limit": "101"},
                                   {"wait": "nan"}, {"wait": "99"}, {"after": "9" * 30}])
def test_bad_parameters_are_a_400(api, bob, query):
    err(api(bob).get(URL, query), 400, "validation_error")


def test_it_needs_a_signed_in_user(anon):
    err(anon.get(URL), 401, "not_authenticated")
