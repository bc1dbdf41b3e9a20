"""Frames (SPEC §6 rule 6): every error code with its `ref`, size and rate limits; what holds
for every frame type.

Each client frame type's own tests are in tests/relay/frames/ (test_ping.py,
test_connection.py, test_sendmessage.py, test_join.py, test_leave.py, test_kick.py,
test_postlike.py); what the domain frames relay, in the actions' files (tests/groups/actions/,
tests/posts/actions/).
"""

import asyncio
import json

import pytest

from groups import actions as group_actions
from groups import messaging as group_messaging
from tests.sockets import (
    IDENTIFIER,
    call,
    closed_with,
    error_of,
    recv,
    recv_types,
    send,
    send_raw,
    still_alive,
)

pytestmark = pytest.mark.django_db(transaction=True)


def frame(type_, **fields):
    return json.dumps({"identifier": IDENTIFIER, "type": type_, **fields})


# --- every error code, with ref ------------------------------------------------------------------
async def test_invalid_json_is_an_error(connect, alice):
    comm = await connect(alice)
    await send_raw(comm, '{"identifier": "kirimin", "type": "ping", "ref": "x"')
    frame_ = await error_of(comm, "invalid_json")
    assert "ref" not in frame_  # nothing could be read from it
    await still_alive(comm)


async def test_binary_frame_is_invalid_json(connect, alice):
    comm = await connect(alice)
    await send_raw(comm, data=frame("ping", ref="b").encode())
    await error_of(comm, "invalid_json")
    await still_alive(comm)


@pytest.mark.parametrize("payload", ["[1, 2]", '"ping"', "42", "null", "true"])
async def test_non_object_json_is_invalid_frame(connect, alice, payload):
    comm = await connect(alice)
    await send_raw(comm, payload)
    frame_ = await error_of(comm, "invalid_frame")
    assert frame_["details"]
    await still_alive(comm)


@pytest.mark.parametrize("identifier", [None, "other", 1, ""])
async def test_wrong_identifier_is_invalid_identifier(connect, alice, identifier):
    comm = await connect(alice)
    body = {"type": "ping", "ref": "id-1"}
    if identifier is not None:
        body["identifier"] = identifier
    await send_raw(comm, json.dumps(body))
    await error_of(comm, "invalid_identifier", ref="id-1")
    await still_alive(comm)


@pytest.mark.parametrize("type_", ["nope", "", None, 7, ["ping"], "PING", "__init__"])
async def test_unknown_type_is_unknown_type(connect, alice, type_):
    comm = await connect(alice)
    await send_raw(comm, json.dumps({"identifier": IDENTIFIER, "type": type_, "ref": "u"}))
    await error_of(comm, "unknown_type", ref="u")
    await still_alive(comm)


async def test_missing_type_is_unknown_type(connect, alice):
    comm = await connect(alice)
    await send_raw(comm, json.dumps({"identifier": IDENTIFIER, "ref": "u"}))
    await error_of(comm, "unknown_type", ref="u")


@pytest.mark.parametrize("fields, field", [
    ({"message": "hi"}, "to"),  # neither `to` nor `groupid`
    ({"message": "hi", "to": 1, "groupid": 1}, "to"),  # both
    ({"to": 1}, "message"),
    ({"message": "x" * 4001, "to": 1}, "message"),
    ({"message": "hi", "to": " 12"}, "to"),
    ({"message": "hi", "to": ""}, "to"),
    ({"message": "hi", "to": 0}, "to"),
    ({"message": "hi", "to": 2**63}, "to"),
    ({"message": "hi", "to": True}, "to"),
    ({"message": "hi", "to": 1.5}, "to"),
    ({"message": ["hi"], "to": 1}, "message"),
])
async def test_bad_fields_are_invalid_frame_with_details(connect, alice, fields, field):
    comm = await connect(alice)
    await send(comm, "sendmessage", ref="f", **fields)
    frame_ = await error_of(comm, "invalid_frame", ref="f")
    assert field in frame_["details"], frame_
    await still_alive(comm)


@pytest.mark.parametrize("type_, fields, kind", [
    ("sendmessage", {"message": "hi", "to": "pm2yig6go"}, "user"),
    ("sendmessage", {"message": "hi", "groupid": "abc"}, "group"),
    ("postlike", {"postid": "pm2yig6go"}, "post"),
    ("deletemessage", {"id": "٤٢"}, "message"),  # other scripts' digits are no id either
])
async def test_an_id_that_is_no_number_names_nothing_not_found(connect, alice, type_, fields, kind):
    """The kirimin socket doc's own example sends `postid: "pm2yig6go"`: such an id names nothing,
    as an id that does not exist, and the frame's one fault is `not_found`, naming the field."""
    comm = await connect(alice)
    await send(comm, type_, ref="n", **fields)
    frame_ = await error_of(comm, "not_found", ref="n")
    assert frame_["message"] == f"No such {kind}.", frame_
    assert list(frame_["details"]) == [name for name, value in fields.items() if isinstance(value, str)
                                       and name != "message"], frame_
    await still_alive(comm)


async def test_an_id_that_is_no_number_beside_another_fault_is_an_invalid_frame(connect, alice):
    comm = await connect(alice)
    await send(comm, "postlike", postid="pm2yig6go", liked="maybe", ref="m")
    frame_ = await error_of(comm, "invalid_frame", ref="m")
    assert set(frame_["details"]) == {"postid", "liked"}, frame_


async def test_blank_message_is_invalid_frame(connect, alice, bob):
    comm = await connect(alice)
    await send(comm, "sendmessage", to=bob.pk, message="   \n ", ref="blank")
    frame_ = await error_of(comm, "invalid_frame", ref="blank")
    assert "message" in frame_["details"]


@pytest.mark.parametrize("channel", ["post:0", "user:1", "post:abc", "post:1:2", "", "group:-1"])
async def test_bad_channel_is_invalid_frame(connect, channel):
    comm = await connect()
    await send(comm, "subscribe", channel=channel, ref="ch")
    frame_ = await error_of(comm, "invalid_frame", ref="ch")
    assert "channel" in frame_["details"]


@pytest.mark.parametrize("ref", ["r" * 65, 42, {"a": 1}, ["r"]])
async def test_bad_ref_is_invalid_frame(connect, alice, ref):
    comm = await connect(alice)
    await send(comm, "ping", ref=ref)
    frame_ = await error_of(comm, "invalid_frame")
    assert "ref" in frame_["details"]
    await still_alive(comm)


async def test_numeric_string_ids_are_accepted(connect, alice, bob):
    comm = await connect(alice)
    await send(comm, "sendmessage", to=str(bob.pk), message="by string id", ref="s")
    frames = await recv_types(comm, "ack", "sendmessage")
    assert frames["sendmessage"]["to"] == bob.pk


@pytest.mark.parametrize("type_, fields", [
    ("sendmessage", {"to": 1, "message": "hi"}),
    ("join", {"groupid": 1}),
    ("leave", {"groupid": 1}),
    ("kick", {"groupid": 1, "userid": 1}),
    ("typing", {"to": 1}),
    ("postlike", {"postid": 1}),
])
async def test_anonymous_domain_frames_are_unauthorized(connect, type_, fields):
    comm = await connect()
    await send(comm, type_, ref="anon", **fields)
    await error_of(comm, "unauthorized", ref="anon")
    await still_alive(comm)


async def test_forbidden_action_is_forbidden(connect, alice, bob, charlie):
    group = await call(group_actions.create_group, actor=alice, name="Chess")
    await call(group_actions.join_group, actor=bob, group=group)
    comm = await connect(charlie)
    await send(comm, "sendmessage", groupid=group.pk, message="let me in", ref="fb")
    await error_of(comm, "forbidden", ref="fb")
    await send(comm, "kick", groupid=group.pk, userid=bob.pk, ref="fk")
    await error_of(comm, "forbidden", ref="fk")
    await still_alive(comm)


async def test_missing_objects_are_not_found(connect, alice):
    comm = await connect(alice)
    for ref, type_, fields in [
        ("m1", "sendmessage", {"to": 999_999, "message": "hi"}),
        ("m2", "sendmessage", {"groupid": 999_999, "message": "hi"}),
        ("m3", "join", {"groupid": 999_999}),
        ("m5", "postlike", {"postid": 999_999}),
        ("m6", "typing", {"to": 999_999}),
        ("m7", "subscribe", {"channel": "post:999999"}),
    ]:
        await send(comm, type_, ref=ref, **fields)
        await error_of(comm, "not_found", ref=ref)
    await still_alive(comm)


async def test_error_frames_never_leak_internals(connect, alice, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("secret internal detail /etc/passwd")

    monkeypatch.setattr(group_messaging, "send_messages", explode)
    comm = await connect(alice)
    await send(comm, "sendmessage", to=alice.pk, message="boom", ref="500")
    frame_ = await error_of(comm, "server_error", ref="500")
    assert "secret" not in json.dumps(frame_)
    await still_alive(comm)


# --- size and rate limits ----------------------------------------------------------------------
async def test_oversize_text_frame_closes_1009(connect, alice):
    comm = await connect(alice)
    await send(comm, "sendmessage", to=alice.pk, message="x" * 70_000)
    assert await closed_with(comm) == 1009


async def test_oversize_multibyte_frame_closes_1009(settings, connect, alice):
    settings.RELAY_MAX_FRAME_BYTES = 1000
    comm = await connect(alice)
    # 400 characters, 1200 bytes: the limit is in bytes.
    await send_raw(comm, '{"identifier":"kirimin","type":"ping","pad":"' + "€" * 400 + '"}')
    assert await closed_with(comm) == 1009


async def test_oversize_binary_frame_closes_1009(settings, connect, alice):
    settings.RELAY_MAX_FRAME_BYTES = 1000
    comm = await connect(alice)
    await send_raw(comm, data=b"x" * 1001)
    assert await closed_with(comm) == 1009


async def test_frame_at_the_limit_is_accepted(settings, connect, alice):
    settings.RELAY_MAX_FRAME_BYTES = 1000
    comm = await connect(alice)
    text = frame("ping", ref="edge")
    text = text[:-1] + ',"pad":"' + "x" * (1000 - len(text) - 9) + '"}'
    assert len(text.encode()) == 1000
    await send_raw(comm, text)
    assert (await recv(comm))["type"] == "pong"


async def test_rapid_frames_are_rate_limited_then_the_socket_recovers(settings, connect, alice):
    settings.RELAY_BURST = 5
    settings.RELAY_RATE = 5.0
    comm = await connect(alice)
    for i in range(5):
        await send(comm, "ping", ref=f"p{i}")
    await send(comm, "ping", ref="sixth")
    for i in range(5):
        assert await recv(comm) == {"identifier": IDENTIFIER, "type": "pong", "ref": f"p{i}"}
    await error_of(comm, "rate_limited", ref="sixth")
    await asyncio.sleep(0.5)  # 5 frames/s refills two tokens
    await still_alive(comm)


async def test_rate_limit_applies_to_bad_frames_too(settings, connect, alice):
    settings.RELAY_BURST = 2
    settings.RELAY_RATE = 1.0
    comm = await connect(alice)
    for _ in range(2):
        await send_raw(comm, "not json")
        await error_of(comm, "invalid_json")
    await send_raw(comm, "not json")
    await error_of(comm, "rate_limited")


# --- bad frames never close the socket ---------------------------------------------------------
async def test_bad_frames_never_close_the_socket(settings, connect, alice):
    settings.RELAY_BURST = 1000  # this test is about bad frames, not about speed
    comm = await connect(alice)
    bad = [
        "", " ", "{", "[]", '"x"', "{}", '{"identifier": "kirimin"}', '{"type": "ping"}',
        frame("nope"), frame("sendmessage"), frame("sendmessage", to=None, message=None),
        frame("join", groupid="1e3"), frame("join", groupid=-1), frame("kick", groupid=1, userid=1, ban="maybe"),
        frame("postlike", postid=1, liked="sure"), frame("typing"), frame("subscribe", channel=None),
        frame("auth"), frame("auth", token=""), "\x00",
    ]
    for text in bad:
        if text:
            await send_raw(comm, text)
            answer = await recv(comm)
            assert answer["type"] == "error", (text, answer)
        await still_alive(comm)


# --- the actor is the socket's user (SPEC §6 rule 8) --------------------------------------------
