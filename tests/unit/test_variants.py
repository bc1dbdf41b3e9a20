"""relay.stream.variants: how one numbered entry is told to each user. An entry on several users'
streams (a presence frame to a user's friends, a direct message) tells each of them their own
stream's offset only, so that nobody learns from `streams` who else it went to."""

import orjson

from relay.stream.publish import Entry
from relay.stream.variants import text_for


def numbered(event, **audience):
    entry = Entry(event, **audience)
    streams = {f"user:{u}": 10 + u for u in entry.users} | {f"group:{g}": 7 for g in entry.groups}
    entry.number(99, streams)
    return entry.message()


def test_each_user_is_told_their_own_stream_only():
    message = numbered({"identifier": "kirimin", "type": "presence", "user": {"id": 1}}, users=[2, 3, 4])
    for user_id in (2, 3, 4):
        frame = orjson.loads(text_for(message, user_id))
        assert frame["seq"] == 99 and frame["streams"] == {f"user:{user_id}": 10 + user_id}
    assert orjson.loads(text_for(message, 5))["streams"] == {}  # on none of them: nothing (not sent anyway)


def test_shared_streams_stay_and_the_marks_come_after():
    message = numbered({"identifier": "kirimin", "type": "postlike", "postid": 1}, users=[2, 3], groups=[7])
    message["v"] = {"3": "b", "4": "x"}
    assert orjson.loads(text_for(message, 2))["streams"] == {"group:7": 7, "user:2": 12}
    flagged = orjson.loads(text_for(message, 3))
    assert flagged["streams"] == {"group:7": 7, "user:3": 13} and flagged["from_blocked"] is True
    assert orjson.loads(text_for(message, 4)) == {"identifier": "kirimin", "type": "skip", "seq": 99,
                                                  "streams": {"group:7": 7}}


def test_one_users_entry_is_left_as_it_is():
    message = numbered({"identifier": "kirimin", "type": "notification", "id": 1}, users=[2])
    assert "u" not in message and orjson.loads(text_for(message, 2))["streams"] == {"user:2": 12}
