"""The relay's hot path, piece by piece: frame validation, the hub's coalesced writes,
and the layer's batched publishes (on a real Redis)."""

import asyncio
import uuid

import pytest
from channels.layers import get_channel_layer
from hypothesis import given, settings
from hypothesis import strategies as st

from config.fields import MAX_ID
from relay import fastpath, frames, hub, outbox
from relay.handlers import DISPATCH
from relay.stream import events
from relay.stream.layers import group_send_many
from tests.conftest import needs_redis

# --- frame validation ----------------------------------------------------------------------------
PAYLOADS = [
    {},
    {"message": "hi", "to": 5},
    {"message": "hi", "groupid": 5, "ref": "r1"},
    {"message": "hi", "to": 5, "groupid": 6},
    {"message": "   ", "to": 5},
    {"message": "x" * 4001, "to": 5},
    {"message": 5, "to": "5"},
    {"message": "hi", "to": True},
    {"message": "hi", "to": 0},
    {"message": "hi", "to": 2**63},
    {"ref": "x" * 65},
    {"ref": 7},
    {"postid": 3},
    {"postid": 3, "liked": "yes"},
    {"postid": 3, "liked": False, "extra": [1, 2]},
    {"channel": "post:12"},
    {"channel": "post:012"},
    {"token": "t" * 5000},
    {"groupid": 4, "userid": 9, "ban": True},
    {"groupid": 4, "userid": None},
    {"message": "a\x00b", "to": 5},
    {"message": "\ud800", "to": 5},
    {"message": "hi", "to": 5, "ref": "r\x00"},
    {"message": " " + "m" * 4000 + " ", "groupid": 5},
]


def assert_answers_as_a_fresh_serializer(serializer_class, payload):
    fresh = serializer_class(data=payload)
    valid = fresh.is_valid()
    data, errors = frames.validate(serializer_class, payload)
    if valid:
        assert errors is None and data == fresh.validated_data, payload
        assert list(data) == list(fresh.validated_data), payload  # same keys, same order
    else:
        assert data is None and errors == fresh.errors, payload


@pytest.mark.parametrize("type_", sorted(DISPATCH))
def test_frame_validation_answers_exactly_as_a_fresh_serializer(type_):
    serializer_class = DISPATCH[type_].serializer
    for payload in PAYLOADS:
        for _ in range(2):  # and the shared instance keeps nothing from one frame to the next
            assert_answers_as_a_fresh_serializer(serializer_class, payload)


# Values near every rule's edge: types DRF would coerce, blanks, padding, NUL, lone surrogates,
# lengths around 64 and 4000, ids around 1 and 2**63 - 1.
_text = st.one_of(
    st.text(max_size=8),
    st.sampled_from(["", " ", " hi ", "\x00", "a\x00b", "\ud800", "é\udfff", "ok", "  \t\n", "42", "0", "١٢",
                     "post:12", "group:0"]),
    st.integers(60, 70).map(lambda n: "r" * n),
    st.integers(3995, 4005).map(lambda n: "m" * n),
    st.integers(3995, 4005).map(lambda n: " " + "m" * n + " "),
)
_value = st.one_of(
    _text, st.booleans(), st.none(), st.floats(allow_nan=False), st.just(1.0),
    st.integers(-2, 3), st.integers(MAX_ID - 1, MAX_ID + 1), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_keys = sorted({name for route in DISPATCH.values() for name in route.serializer().fields} | {"type", "extra"})


# A valid frame of each type, so that one changed field is often the only thing wrong.
_VALID = {"message": "hi", "to": 5, "groupid": 4, "userid": 9, "postid": 3, "channel": "post:12", "token": "t"}


@settings(max_examples=400, deadline=None)
@given(type_=st.sampled_from(sorted(DISPATCH)), start_valid=st.booleans(),
       changes=st.dictionaries(st.sampled_from(_keys), _value, max_size=3), dropped=st.sets(st.sampled_from(_keys)))
def test_frame_validation_matches_drf_on_any_frame(type_, start_valid, changes, dropped):
    serializer_class = DISPATCH[type_].serializer
    payload = {k: v for k, v in _VALID.items() if k in serializer_class().fields} if start_valid else {}
    if start_valid and "to" in payload and "groupid" in payload:
        del payload["groupid"]
    payload.update(changes)
    for key in dropped - set(changes):
        payload.pop(key, None)
    assert_answers_as_a_fresh_serializer(serializer_class, payload)


@pytest.mark.parametrize("type_", ["sendmessage", "postlike", "typing", "join", "kick"])
def test_the_busy_frames_are_accepted_without_running_drf(type_, monkeypatch):
    """The compiled plan covers these frames' fields, so a well-formed one never reaches DRF."""
    serializer_class = DISPATCH[type_].serializer
    frames.validate(serializer_class, {})  # compiles the plan
    monkeypatch.setattr(serializer_class, "run_validation", None)  # DRF's path would now fail
    payload = {"sendmessage": {"message": " hi ", "to": 5, "ref": "r"}, "postlike": {"postid": 3},
               "typing": {"groupid": 4}, "join": {"groupid": 4}, "kick": {"groupid": 4, "userid": 9}}[type_]
    data, errors = frames.validate(serializer_class, payload)
    assert errors is None and data, data


# --- the hub: one write per socket per pass --------------------------------------------------------
class FakeSocket:
    """What the hub needs of a consumer, with a raw writer that records each write."""

    def __init__(self, user_id, client_id, result=fastpath.WRITTEN):
        self.user_id, self.client_id = user_id, client_id
        self.ready, self.closed, self.topics = True, False, set()
        self.member_topics, self.subscriptions, self.position, self.address = set(), set(), 0, None
        self.writes, self.pushed, self.closed_with = [], [], None
        self._result = result

    def raw_send(self, data, frames_):
        self.writes.append(data)
        return self._result

    async def push(self, text):
        self.pushed.append(text)

    async def close_with(self, code):
        self.closed, self.closed_with = True, code


def event(topic, text):
    return {"type": "relay.event", "t": [topic], "text": text}


def frames_in(data):
    """Split a run of unmasked server text frames back into their texts."""
    texts = []
    while data:
        n, at = data[1] & 0x7F, 2
        if n == 126:
            n, at = int.from_bytes(data[2:4], "big"), 4
        elif n == 127:
            n, at = int.from_bytes(data[2:10], "big"), 10
        texts.append(data[at:at + n].decode())
        data = data[at + n:]
    return texts


async def test_events_of_one_pass_go_out_in_one_write_per_socket_in_order():
    h = hub.Hub(layer=None)
    a, b = FakeSocket(1, "c#1"), FakeSocket(2, "c#2")
    h.registry.topics = {"group.1": {a, b}, "user.2": {b}}
    texts = [events.encode({"n": i, "pad": "x" * 200 * i}) for i in range(3)]
    await h.handle_many([event("group.1", texts[0]), event("user.2", texts[1]), event("group.1", texts[2])])
    assert len(a.writes) == 1 and frames_in(a.writes[0]) == [texts[0], texts[2]]
    assert len(b.writes) == 1 and frames_in(b.writes[0]) == texts


async def test_sockets_that_get_the_same_events_share_one_buffer():
    h = hub.Hub(layer=None)
    members = [FakeSocket(i, f"c#{i}") for i in range(50)]
    h.registry.topics = {"group.1": set(members)}
    await h.handle_many([event("group.1", f'"e{i}"') for i in range(4)])
    assert len({id(s.writes[0]) for s in members}) == 1  # joined once, not 50 times
    assert frames_in(members[0].writes[0]) == [f'"e{i}"' for i in range(4)]


async def test_a_socket_that_stopped_reading_is_closed_and_the_others_still_get_the_pass():
    h = hub.Hub(layer=None)
    stuck, fine = FakeSocket(1, "c#1", result=fastpath.SLOW), FakeSocket(2, "c#2")
    h.registry.topics = {"group.1": {stuck, fine}}
    await h.handle_many([event("group.1", '"a"'), event("group.1", '"b"')])
    await asyncio.sleep(0)  # the close runs in a task of its own: the hub does not wait for it
    assert stuck.closed_with == outbox.CLOSE_SLOW_CONSUMER
    assert frames_in(fine.writes[0]) == ['"a"', '"b"']


async def test_sockets_without_a_raw_writer_get_each_event_through_asgi_in_order():
    h = hub.Hub(layer=None)
    plain = FakeSocket(1, "c#1")
    plain.raw_send = None
    h.registry.topics = {"group.1": {plain}}
    await h.handle_many([event("group.1", '"a"'), event("group.1", '"b"')])
    assert plain.pushed == ['"a"', '"b"']


# --- the layer: batched publishes keep their order ---------------------------------------------------
@needs_redis
@pytest.mark.redis
async def test_concurrent_publishes_arrive_in_the_order_they_were_made():
    layer = get_channel_layer()
    group = f"order-{uuid.uuid4().hex}"
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        # 300 senders at once: the pub/sub layer queues them into a few pipelines.
        await asyncio.gather(*[layer.group_send(group, {"type": "t", "n": i}) for i in range(300)])
        results = await group_send_many(layer, [(group, {"type": "t", "n": 300 + i}) for i in range(100)])
        assert results == [None] * 100
        got = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(400)]
        assert got == list(range(400))
    finally:
        await layer.group_discard(group, channel)


@needs_redis
@pytest.mark.redis
async def test_a_burst_is_read_from_the_subscriber_buffer_whole_and_in_order(monkeypatch):
    """5000 events published at once: each arrives once, in order, and the subscriber takes
    them from what each read brought rather than one `get_message` per event."""
    from redis.asyncio.client import PubSub

    layer = get_channel_layer()
    if not hasattr(layer, "group_send_many"):
        pytest.skip("the pub/sub layer's subscriber (RELAY_LAYER=core has none)")
    calls = []
    get_message = PubSub.get_message

    async def counted(self, *args, **kwargs):
        message = await get_message(self, *args, **kwargs)
        if message is not None:
            calls.append(1)
        return message

    monkeypatch.setattr(PubSub, "get_message", counted)
    group = f"burst-{uuid.uuid4().hex}"
    breaks = layer.disconnects
    channel = await layer.new_channel()
    await layer.group_add(group, channel)
    try:
        results = await group_send_many(layer, [(group, {"type": "t", "n": i, "pad": "x" * 100}) for i in range(5000)])
        assert results == [None] * 5000
        got = [(await asyncio.wait_for(layer.receive(channel), 5))["n"] for _ in range(5000)]
        assert got == list(range(5000))
        with pytest.raises(TimeoutError):  # and nothing twice
            await asyncio.wait_for(layer.receive(channel), 0.3)
        assert 0 < len(calls) < 500, len(calls)
        assert layer.disconnects == breaks  # the subscriber never broke and reconnected
    finally:
        await layer.group_discard(group, channel)
