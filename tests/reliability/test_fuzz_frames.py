"""Hostile frames against a live socket (SPEC §6 rules 6, 8, 9): thousands of generated frames.

Hypothesis builds frames for every client frame type of SPEC §6 with mutated fields
(wrong JSON types, huge and negative numbers, floats, NaN-like strings, deep
nesting, long strings, odd Unicode, NUL, lone surrogates escaped in JSON, spoofed
actor fields), plus text that is not JSON, JSON that is not an object, empty and
binary frames, and missing or wrong identifiers. They go to a real daphne process
over the `websockets` client, to a signed-in socket and to an anonymous one.

After every frame the test sends a `ping` sentinel and reads up to its `pong`, so
each answer is matched to the frame that caused it. Every answer must be the one
SPEC §6 defines (an `error` with a SPEC code and the frame's `ref`, or the frame's
own `ack`/`pong`/`connection`); the server never answers `server_error`, never
closes the socket (except 4401 for a bad `auth` token on an anonymous socket, as
SPEC §6 says), never logs a traceback, and stores nothing but the messages it
acknowledged.
"""

import json
import time
from collections import Counter
from contextlib import ExitStack

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests import servers
from tests.reliability import report
from tests.reliability.conftest import UNLIMITED, tracebacks

pytestmark = [pytest.mark.processes, pytest.mark.fuzz, pytest.mark.usefixtures("server_logs_on_failure")]

IDENTIFIER = "kirimin"
CLIENT_TYPES = ["postlike", "sendmessage", "join", "leave", "kick", "typing", "read", "subscribe", "unsubscribe",
                "ping", "pong", "connection", "auth", "editmessage", "deletemessage", "react"]
# Every code an `error` frame may carry (SPEC §6 rule 6, plus the domain's own conflict code).
ERROR_CODES = {"invalid_json", "invalid_identifier", "unknown_type", "invalid_frame", "forbidden",
               "unauthorized", "not_found", "conflict", "owner_cannot_leave", "rate_limited"}
SPOOFED = ["from", "userid", "user", "sender", "by", "user_id", "author"]
# Events a frame of the fuzzer's own may cause on its socket: its messages, edited or deleted, and
# its reactions to them.
OWN_EVENTS = ("sendmessage", "editmessage", "deletemessage", "reaction")
MAX_FRAME = 60_000  # below RELAY_MAX_FRAME_BYTES: a larger frame closes with 1009 by design


# --- the scene: a signed-in fuzzer, another user with hidden things --------------------------------
class Scene:
    """Users and ids the generated frames aim at (set up once per module)."""

    def __init__(self, server):
        http = server.client()
        self.server = server
        self.http = http
        self.fuzzer = http.register()
        self.other = http.register()
        token = self.other["access"]
        private = http.data("POST", "/api/groups/", {"name": "hidden", "is_private": True}, token, expect=201)
        post = http.data("POST", "/api/posts/", {"content": "hidden post", "group_id": private["id"]}, token,
                         expect=201)
        message = http.data("POST", f"/api/groups/{private['id']}/messages/", {"message": "hidden message"}, token,
                            expect=201)
        self.hidden_message = message["id"]
        self.fuzzer_id = self.fuzzer["user"]["id"]
        self.other_id = self.other["user"]["id"]
        self.private_group = private["id"]
        self.hidden_post = post["id"]

    def ids(self):
        """Ids worth aiming at: real ones (visible or not), missing ones, the edges of a 64-bit id."""
        return [self.fuzzer_id, self.other_id, self.private_group, self.hidden_post, self.hidden_message, 10**12,
                2**63 - 1, 2**63]

    def counts(self):
        """What the fuzzer owns in the database: messages, likes, memberships, posts, groups, friend requests;
        and whether the other user's hidden message is still there as written."""
        return json.loads(self.server.stack.python(
            "import json; from groups.models import Group, Membership, Message; "
            "from posts.models import Like, Post; from accounts.models import FriendRequest; "
            f"u = {self.fuzzer_id}; print(json.dumps(dict("
            "messages=Message.objects.filter(sender_id=u).count(), likes=Like.objects.filter(user_id=u).count(), "
            "memberships=Membership.objects.filter(user_id=u).count(), posts=Post.objects.filter(author_id=u).count(), "
            "groups=Group.objects.filter(owner_id=u).count(), "
            "friend_requests=FriendRequest.objects.filter(from_user_id=u).count(), "
            f"hidden=Message.objects.filter(pk={self.hidden_message}, body='hidden message').count())))"
        ))


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A database of its own: any small id a frame aims at is the scene's, so every outcome is known."""
    from tests.conftest import DATABASE_URL, REDIS_URL

    stack = servers.Stack.prepare(tmp_path_factory.mktemp("fuzz"), database_url=DATABASE_URL, redis_url=REDIS_URL)
    server = servers.Server.start(stack, server="uvicorn", **UNLIMITED)
    try:
        yield Scene(server)
    finally:
        server.stop()
        stack.drop()


class Socket:
    """A synchronous `websockets` connection that answers for each frame what the server sent back."""

    def __init__(self, scene, signed_in):
        self.scene = scene
        self.signed_in = signed_in
        self.sentinel = 0
        self.stats = Counter()
        self.history = []  # the last frames and their answers, for failure messages
        self.connection = None
        self.open()

    def open(self):
        if self.connection is not None:
            self.connection.close()
        self.connection = ExitStack()
        self.dead = False
        if self.signed_in:
            config = self.scene.http.socket(self.scene.fuzzer["access"])
            url = f"ws://{config['host']}?id={config['id']}"
        else:
            url = f"ws://127.0.0.1:{self.scene.server.port}/ws/"
        self.ws = self.connection.enter_context(connect(url, open_timeout=10, max_size=2**22))
        first = json.loads(self.ws.recv(timeout=5))
        assert first["type"] == "connection", first
        expected_user = self.scene.fuzzer_id if self.signed_in else None
        assert (first["user"] or {}).get("id") == expected_user, first

    def exchange(self, raw):
        """Send `raw` (str or bytes); what the server answered to it (see `exchange_all`)."""
        return self.exchange_all([raw])[0]

    def exchange_all(self, raws):
        """Send each frame followed by a `ping` sentinel, all at once; then read, for each frame, the frames
        that came before its sentinel's `pong`: a list, or ("closed", code) if the server closed the socket
        on it, or None for the frames after that (never processed: send them again)."""
        if self.dead:  # closed on an earlier frame: a fresh socket, as a client would reconnect
            self.stats["reconnects"] += 1
            self.open()
        markers = []
        try:
            for raw in raws:
                self.sentinel += 1
                markers.append(f"sentinel-{self.sentinel}")
                self.ws.send(raw)
                self.ws.send(json.dumps({"identifier": IDENTIFIER, "type": "ping", "ref": markers[-1]}))
        except ConnectionClosed:
            pass  # the server closed on an earlier frame of the batch: read what it answered before
        results = []
        for marker in markers:
            answers = []
            try:
                while True:
                    frame = json.loads(self.ws.recv(timeout=10))
                    assert frame.get("identifier") == IDENTIFIER, frame
                    if frame == {"identifier": IDENTIFIER, "type": "pong", "ref": marker}:
                        break
                    answers.append(frame)
            except ConnectionClosed as exc:
                self.dead = True
                results.append(("closed", exc.rcvd.code if exc.rcvd is not None else None))
                break
            results.append(answers)
        self.stats["frames"] += len(results)
        self.history = [*self.history[-20:], *zip(raws, results, strict=False)]
        return results + [None] * (len(raws) - len(results))

    def close(self):
        self.connection.close()


# --- frames ---------------------------------------------------------------------------------------
odd_text = st.one_of(
    st.text(max_size=40),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=40),  # any plane, control characters, NUL
    st.text(st.characters(categories=["Cs"]), min_size=1, max_size=3),  # lone surrogates (escaped in JSON)
    st.sampled_from(["", " ", "\x00", "a\x00b", "\u202e", "\ufeff", "\U0001f600" * 3, "𝕜𝕚𝕣𝕚𝕞𝕚𝕟", "\r\n\t",
                     "NaN", "Infinity", "-Infinity", "null", "true", "1e400", "0x10", "４２", " 42", "4_2",
                     "42 ", "-1", "0", "9223372036854775808", "__proto__", "{}", "[]"]),
    # Long strings, built cheaply (drawing thousands of characters one by one is slow).
    st.builds(lambda piece, n: piece * n, st.text(min_size=1, max_size=4), st.integers(250, 4000)),
)
huge_numbers = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.sampled_from([0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64, 2**80, -(2**63) - 1, 10**30]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.5, 1.0, -0.0, 1e300, 5e-324]),
)
scalars = st.one_of(st.none(), st.booleans(), huge_numbers, odd_text)
junk = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)


def deep(depth, kind):
    if kind == "list":
        return "[" * depth + "]" * depth
    return '{"a":' * depth + "1" + "}" * depth


@st.composite
def plausible(draw, field, scene):
    """A value that looks right for `field` (it may still be refused: a hidden id, a blank message)."""
    if field in ("postid", "to", "groupid", "userid", "id", "message_id", "messageid"):
        value = draw(st.sampled_from(scene.ids()))
        return str(value) if draw(st.booleans()) else value  # SPEC §1: numeric strings are ids too
    if field == "emoji":
        return draw(st.sampled_from(["👍", "❤️", "🦄", "", "👍👍"]))
    if field in ("liked", "ban", "on"):
        return draw(st.booleans())
    if field == "message":
        return draw(st.one_of(st.text(min_size=1, max_size=60), st.just("fuzz hello")))
    if field == "channel":
        kind = draw(st.sampled_from(["post", "group", "user", "", "feed", "groups", "presence"]))
        if kind in ("feed", "groups"):
            return kind
        return f"{kind}:{draw(st.sampled_from([*scene.ids(), 0, -1, 'x']))}"
    if field == "token":
        return draw(st.one_of(st.text(max_size=50), st.just("e30.e30.e30")))
    return draw(scalars)


FIELDS = {
    "postlike": ["postid", "liked"], "sendmessage": ["message", "to", "groupid"], "join": ["groupid"],
    "leave": ["groupid"], "kick": ["groupid", "userid", "ban"], "typing": ["to", "groupid"],
    "read": ["to", "groupid", "message_id"], "subscribe": ["channel"], "unsubscribe": ["channel"], "ping": [], "pong": [], "connection": [],
    "auth": ["token"], "editmessage": ["id", "message"], "deletemessage": ["id"],
    "react": ["messageid", "postid", "emoji", "on"],
}


@st.composite
def object_frame(draw, scene):
    """A frame of a SPEC §6 client type (or a bad type) with some fields mutated."""
    # sampled_from, not integers(): Hypothesis favours the ends of an integer range.
    type_ = draw(st.sampled_from(CLIENT_TYPES)) if draw(st.sampled_from([True] * 9 + [False])) else draw(
        st.one_of(st.sampled_from(["", "PING", "send message", "error", "ack", "sendMessage"]), junk))
    frame = {}
    identifier = draw(st.sampled_from(["ok"] * 18 + ["missing", "wrong"]))
    if identifier == "ok":
        frame["identifier"] = IDENTIFIER
    elif identifier == "wrong":
        frame["identifier"] = draw(st.one_of(st.sampled_from(["Kirimin", "kirimin ", ""]), junk))
    if draw(st.sampled_from([True] * 19 + [False])):
        frame["type"] = type_
    for field in FIELDS.get(type_, []) if isinstance(type_, str) else []:
        choice = draw(st.sampled_from(["plausible"] * 3 + ["junk", "missing"]))
        if choice == "plausible":
            frame[field] = draw(plausible(field, scene))
        elif choice == "junk":
            frame[field] = draw(junk)
    ref = draw(st.sampled_from(["good"] * 3 + ["none", "junk", "long"]))
    if ref == "good":
        frame["ref"] = draw(st.text(max_size=64))
    elif ref == "junk":
        frame["ref"] = draw(junk)
    elif ref == "long":
        frame["ref"] = "r" * 65
    for field in draw(st.lists(st.sampled_from(SPOOFED), max_size=3, unique=True)):
        frame[field] = draw(st.one_of(st.sampled_from([scene.other_id, str(scene.other_id),
                                                       {"id": scene.other_id}]), junk))
    return frame


def encode(frame, ascii_only):
    text = json.dumps(frame, ensure_ascii=ascii_only)
    try:
        text.encode()
    except UnicodeEncodeError:  # a lone surrogate: only its JSON escape can travel in a text frame
        text = json.dumps(frame)
    return text


@st.composite
def raw_frame(draw, scene):
    """What one client sends: mostly frame objects, sometimes anything at all."""
    kind = draw(st.sampled_from(["object"] * 24 + ["text", "binary", "empty", "scalar", "truncated", "deep",
                                                   "nan", "duplicate"]))
    if kind == "object":
        return encode(draw(object_frame(scene)), draw(st.booleans()))
    if kind == "text":
        return draw(st.text(max_size=200))
    if kind == "binary":
        return draw(st.one_of(st.binary(max_size=200), st.just(b""),
                              st.just(b'{"identifier":"kirimin","type":"ping"}')))
    if kind == "empty":
        return draw(st.sampled_from(["", " ", "\n", "\x00"]))
    if kind == "scalar":
        return json.dumps(draw(st.one_of(scalars, st.lists(scalars, max_size=5))))
    if kind == "truncated":
        text = encode(draw(object_frame(scene)), False)
        return text[:draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "deep":
        return deep(draw(st.integers(100, 5000)), draw(st.sampled_from(["list", "object"])))
    if kind == "nan":
        return '{"identifier":"kirimin","type":"postlike","postid":' + draw(
            st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "1" * 400, "01", "+1", "0x1"])) + "}"
    # Duplicate keys: the last one wins, and it is checked like any other.
    return '{"identifier":"kirimin","type":"ping","type":' + json.dumps(draw(scalars)) + "}"


# --- the oracle -------------------------------------------------------------------------------------
NOT_JSON = object()


def parsed(raw):
    """The frame as the server reads it: a JSON value, or NOT_JSON (binary frames included)."""
    if isinstance(raw, bytes):
        return NOT_JSON
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return NOT_JSON


def check_answers(raw, answers, sock):
    """Every answer to `raw` is the one SPEC §6 defines for it."""
    frame = parsed(raw)
    is_object = isinstance(frame, dict)
    ref = frame.get("ref") if is_object else None
    good_ref = isinstance(ref, str) and len(ref) <= 64
    if isinstance(answers, tuple):  # the server closed the socket
        _, code = answers
        # SPEC §6: a bad token closes with 4401; only an anonymous socket tries one (signed-in: forbidden).
        assert (not sock.signed_in and code == 4401 and is_object and frame.get("type") == "auth"
                and frame.get("identifier") == IDENTIFIER and (ref is None or good_ref)), (
            raw[:300], code, sock.history[-5:])
        return
    replies = [a for a in answers if a["type"] not in OWN_EVENTS]
    events = [a for a in answers if a["type"] in OWN_EVENTS]
    for event in events:  # the only events this socket can cause: its own messages, relayed back
        assert sock.signed_in and (event.get("from") or event.get("by") or event.get("user"))["id"] == sock.scene.fuzzer_id, (
            raw[:300], event)
    assert len(replies) <= 1, (raw[:300], answers)
    if not replies:
        # Only a successful `typing` without ref, and `pong`, are answered by nothing.
        assert is_object and frame.get("type") in ("typing", "pong") and frame.get("identifier") == IDENTIFIER, (
            raw[:300], answers)
        return
    reply = replies[0]
    sock.stats[reply.get("code", reply["type"])] += 1
    assert "Traceback" not in json.dumps(reply), reply
    if reply["type"] == "error":
        assert reply["code"] in ERROR_CODES, (raw[:300], reply)
        assert isinstance(reply["message"], str) and reply["message"], reply
    expected = expected_error(raw, frame)
    if expected is not None:
        assert reply["type"] == "error" and reply["code"] == expected, (raw[:300], reply)
    if good_ref and expected not in ("invalid_json", "invalid_frame"):
        assert reply.get("ref") == ref, (raw[:300], reply)
    if reply["type"] == "ack":
        assert is_object and frame.get("type") not in ("ping", "connection"), (raw[:300], reply)
        if frame.get("type") == "sendmessage":
            sock.stats["acked_messages"] += 1
            assert sock.signed_in, reply
        if frame.get("type") == "deletemessage" and reply.get("changed"):
            sock.stats["deleted_messages"] += 1  # one of its own
        if frame.get("type") in ("postlike", "join", "kick"):
            # Nothing the fuzzer may like, join or kick: those ids are hidden, missing or refused.
            raise AssertionError(f"unexpected ack for {raw[:300]}: {reply}")
    elif reply["type"] == "pong":
        assert frame.get("type") == "ping", (raw[:300], reply)
    elif reply["type"] == "connection":
        assert frame.get("type") == "connection", (raw[:300], reply)
    else:
        assert reply["type"] == "error", (raw[:300], reply)


def expected_error(raw, frame):
    """The error code the first checks of SPEC §6 rule 6 call for, or None when the frame got further."""
    if frame is NOT_JSON:
        return "invalid_json"
    if not isinstance(frame, dict):
        return "invalid_frame"
    ref = frame.get("ref")
    if ref is not None and not (isinstance(ref, str) and len(ref) <= 64):
        return "invalid_frame"
    if frame.get("identifier") != IDENTIFIER:
        return "invalid_identifier"
    if not isinstance(frame.get("type"), str) or frame["type"] not in CLIENT_TYPES:
        return "unknown_type"
    return None


# --- the tests ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def sockets(scene):
    signed_in, anonymous = Socket(scene, signed_in=True), Socket(scene, signed_in=False)
    yield signed_in, anonymous
    signed_in.close()
    anonymous.close()


def test_hostile_frames_get_spec_answers_and_store_nothing(scene, sockets):
    signed_in, anonymous = sockets
    before = scene.counts()
    started = time.monotonic()

    @settings(max_examples=50, deadline=None, database=None, derandomize=False,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.lists(raw_frame(scene), min_size=20, max_size=80))
    def run(batch):
        batch = [raw for raw in batch
                 if len(raw if isinstance(raw, bytes) else raw.encode("utf-8", "surrogatepass")) <= MAX_FRAME]
        for sock in (signed_in, anonymous):
            pending = batch
            while pending:
                results = sock.exchange_all(pending)
                for raw, answers in zip(pending, results, strict=True):
                    if answers is None:
                        break
                    check_answers(raw, answers, sock)
                pending = pending[len([r for r in results if r is not None]):]

    run()
    frames = signed_in.stats["frames"] + anonymous.stats["frames"]
    print(f"\n{frames} frames in {time.monotonic() - started:.1f} s\nsigned in: {dict(signed_in.stats)}"
          f"\nanonymous: {dict(anonymous.stats)}")
    assert frames >= 1000

    # The sockets still work: ping, and a valid message is stored and relayed.
    for sock in sockets:
        answers = sock.exchange(json.dumps({"identifier": IDENTIFIER, "type": "ping", "ref": "alive"}))
        replies = [a for a in answers if a["type"] not in OWN_EVENTS]  # a late copy of an acked message may come
        assert replies == [{"identifier": IDENTIFIER, "type": "pong", "ref": "alive"}], answers
    answers = signed_in.exchange(json.dumps({"identifier": IDENTIFIER, "type": "sendmessage", "ref": "last",
                                             "to": scene.other_id, "message": "still here"}))
    deadline = time.monotonic() + 5
    while not any(a["type"] == "sendmessage" and a["message"] == "still here" for a in answers):
        assert time.monotonic() < deadline, answers  # the relayed copy comes through the channel layer
        answers.append(json.loads(signed_in.ws.recv(timeout=5)))
    ack = next(a for a in answers if a["type"] == "ack")
    assert ack["ref"] == "last" and isinstance(ack["id"], int), answers
    signed_in.stats["acked_messages"] += 1

    # Nothing but the acknowledged messages was stored.
    after = scene.counts()
    stored = signed_in.stats["acked_messages"] - signed_in.stats["deleted_messages"]
    assert after == {**before, "messages": before["messages"] + stored}, (before, after)
    errors = tracebacks(scene.server)
    assert errors == []
    stray = sum(after.values()) - sum(before.values()) - stored
    report.record("fuzz", server=scene.server.server, frames=frames, seconds=round(time.monotonic() - started, 1),
                  server_errors=len(errors), last_message_acked=ack["id"] is not None, stored_by_bad_frames=stray)


EDGES = [
    # (what is sent, the error code it gets): frames that can never be objects get a defined answer too.
    ("", "invalid_json"), (" ", "invalid_json"), ("\x00", "invalid_json"), (b"", "invalid_json"),
    (b"\x00\xff", "invalid_json"), (b'{"identifier":"kirimin","type":"ping"}', "invalid_json"),
    ("\ufeff{}", "invalid_json"), ('{"identifier":"kirimin","type":"ping","x":NaN}', "invalid_json"),
    ('{"identifier":"kirimin","type":"sendmessage","to":1,"message":"\\ud800"}', "invalid_json"),
    ("[" * 5000 + "]" * 5000, "invalid_json"), ('{"a":' * 2000 + "1" + "}" * 2000, "invalid_json"),
    ("[]", "invalid_frame"), ("null", "invalid_frame"), ('"kirimin"', "invalid_frame"), ("1e400", "invalid_json"),
    ("{}", "invalid_identifier"), ('{"type":"ping"}', "invalid_identifier"),
    ('{"identifier":"kirimin"}', "unknown_type"), ('{"identifier":"kirimin","type":["ping"]}', "unknown_type"),
    ('{"identifier":"kirimin","type":"ping","ref":1}', "invalid_frame"),
    ('{"identifier":"kirimin","type":"postlike","postid":1e400}', "invalid_json"),
    ('{"identifier":"kirimin","type":"postlike","postid":100000000000000000000000}', "invalid_frame"),
    ('{"identifier":"kirimin","type":"postlike","postid":9223372036854775808}', "invalid_frame"),
    ('{"identifier":"kirimin","type":"postlike","postid":"9223372036854775807"}', "not_found"),
    ('{"identifier":"kirimin","type":"postlike","postid":1,"liked":"false"}', "invalid_frame"),
    ('{"identifier":"kirimin","type":"sendmessage","to":1,"message":42}', "invalid_frame"),
    ('{"identifier":"kirimin","type":"sendmessage","to":1,"message":"a\\u0000b"}', "invalid_frame"),
    ('{"identifier":"kirimin","type":"subscribe","channel":"post:9999999999999999999"}', "not_found"),
]


@pytest.mark.parametrize("raw, code", EDGES, ids=[repr(raw)[:40] for raw, _ in EDGES])
def test_edge_frames_get_their_spec_error(sockets, raw, code):
    signed_in, _ = sockets
    answers = signed_in.exchange(raw)
    assert [(a["type"], a.get("code")) for a in answers] == [("error", code)], answers


async def test_rate_limiter_answers_rate_limited_and_keeps_the_socket(e2e_stack):
    """The limit in force (here 5 frames at once, 5/s) answers `rate_limited` with the ref; it never closes."""
    server = servers.Server.start(e2e_stack, RELAY_BURST=5, RELAY_RATE=5)
    try:
        http = server.client()
        me = http.register()
        ws, _ = await servers.open_socket(me["socket"])
        try:
            started = time.monotonic()
            for i in range(30):
                await servers.send(ws, "ping", ref=f"p{i}")
            answers = [await servers.receive(ws) for _ in range(30)]
            elapsed = time.monotonic() - started
            limited = [a for a in answers if a["type"] == "error"]
            assert limited and all(a["code"] == "rate_limited" for a in limited), answers
            assert {a["ref"] for a in answers} == {f"p{i}" for i in range(30)}, answers
            # The burst of 5, plus what refilled at 5/s while the frames went out (slow on a busy machine).
            assert 30 - len(limited) <= 5 + 5 * elapsed + 1, (elapsed, answers)
            await servers.nothing(ws, timeout=1.2)  # no close frame follows; the bucket refills meanwhile
            await servers.send(ws, "ping", ref="again")
            assert await servers.receive(ws) == {"identifier": IDENTIFIER, "type": "pong", "ref": "again"}
        finally:
            await ws.close()
        assert tracebacks(server) == []
    finally:
        server.stop()
