"""After Redis drops the pub/sub subscriber (it does to one that falls behind its output
buffer, and on restarts), whatever was published meanwhile is gone from the layer: the hub
reads it back from the stream, and writes nothing newer before it."""

import asyncio
import json
import time
import uuid

import pytest
from channels.layers import get_channel_layer
from redis import asyncio as aioredis

from config.redis_clients import REDIS_DOWN
from relay import hub
from relay.stream import events, layers, publish
from relay.stream.topics import user_topic
from tests.conftest import REDIS_URL, needs_redis
from tests.relay.test_hot_path import FakeSocket, frames_in
from tests.servers import RedisServer
from tests.sockets import call

pytestmark = [needs_redis, pytest.mark.redis]


def texts_of(socket):
    return [text for data in socket.writes for text in frames_in(data)]


async def until(condition, timeout):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


async def kill_subscriber(layer):
    """Close this process's subscriber connection from the Redis side, and only that one."""
    shard = layer._get_layer()._shards[0]
    host, port = shard._pubsub.connection._writer.get_extra_info("sockname")[:2]
    admin = aioredis.Redis.from_url(REDIS_URL)
    try:
        assert await admin.client_kill(f"{host}:{port}")
    finally:
        await admin.aclose()


@pytest.fixture
def pubsub_layer():
    layer = get_channel_layer()
    if not hasattr(layer, "subscribers_ready"):
        pytest.skip("the pub/sub layer (RELAY_LAYER=core has no subscriber connection)")
    return layer


async def test_the_layer_says_when_its_subscriber_is_back(pubsub_layer, monkeypatch):
    monkeypatch.setattr(layers, "_RETRY_DELAYS", (1.5,))  # the subscriber retries 1.5 s after a break
    channel = await pubsub_layer.new_channel()
    group = f"recovery-{uuid.uuid4().hex}"
    await pubsub_layer.group_add(group, channel)
    try:
        assert await pubsub_layer.subscribers_ready(timeout=1)
        breaks = pubsub_layer.disconnects
        await kill_subscriber(pubsub_layer)
        await until(lambda: pubsub_layer.disconnects > breaks, timeout=5)
        assert not await pubsub_layer.subscribers_ready(timeout=0.5)  # still waiting to retry
        assert await pubsub_layer.subscribers_ready(timeout=5)
        await pubsub_layer.group_send(group, {"type": "t", "n": 1})  # right away: it arrives
        assert (await asyncio.wait_for(pubsub_layer.receive(channel), 5))["n"] == 1
        assert pubsub_layer.disconnects == breaks + 1  # one break, counted once
    finally:
        await pubsub_layer.group_discard(group, channel)


@pytest.mark.django_db(transaction=True)
async def test_what_was_published_while_the_subscriber_was_down_arrives_first_in_order(pubsub_layer, monkeypatch,
                                                                                       settings, alice):
    """Entries committed while the subscriber is away are lost on the way; the hub reads them back
    from the stream (its poll finds the head ahead of it) and writes them before anything newer."""
    settings.RELAY_STREAM_POLL = 0.2
    monkeypatch.setattr(layers, "_RETRY_DELAYS", (3.0,))  # the subscriber retries 3 s after a break
    h = hub.Hub(layer=pubsub_layer)
    await h.start()
    socket = FakeSocket(alice.pk, h.new_client_id())
    await h.attach(socket, [user_topic(alice.pk)])
    try:
        breaks = pubsub_layer.disconnects
        await kill_subscriber(pubsub_layer)
        await until(lambda: pubsub_layer.disconnects > breaks, timeout=5)
        for n in range(5):  # while it is away
            await call(note, alice, n)
        await until(lambda: len(texts_of(socket)) == 5, timeout=5)
        assert await pubsub_layer.subscribers_ready(timeout=5)
        for n in range(5, 8):  # and after: live again
            await call(note, alice, n)
        await until(lambda: len(texts_of(socket)) == 8, timeout=5)
        got = [json.loads(text) for text in texts_of(socket)]
        assert [f["id"] for f in got] == list(range(8))  # each once, in order
        offsets = [f["streams"][f"user:{alice.pk}"] for f in got]
        assert offsets == list(range(offsets[0], offsets[0] + 8))  # no gap in alice's stream
        assert h.stream.fills >= 1
    finally:
        await h.stop()


def note(user, n):
    publish.notify_users([user.pk], events.frame("notification", id=n, kind="test", message=str(n), data={}))


@pytest.fixture
async def own_layer(tmp_path):
    """A pub/sub layer on a redis-server of the test's own, which the test may kill and restart."""
    own = RedisServer(tmp_path).start()
    layer = layers.RedisPubSubChannelLayer(hosts=[{"address": own.url}], prefix="own")
    try:
        yield own, layer
    finally:
        await layer.flush()
        own.kill()


@pytest.mark.processes  # a redis-server of its own
async def test_channels_opened_while_redis_comes_back_all_work(own_layer, monkeypatch):
    """Sockets that connect just as Redis comes back subscribe channels of their own on the
    connection the subscriber is reconnecting: they must take turns, never handshake or read
    at once (redis-py then raised "read() called while another coroutine is already waiting",
    and the socket was closed with 1011). One opened while Redis is away either waits for it
    or is told it is away; one opened once it is back works."""
    monkeypatch.setattr(layers, "_RETRY_DELAYS", (0.01,))  # the subscriber retries all the time
    own, layer = own_layer
    channels = [await layer.new_channel()]
    for restart in range(3):
        own.kill()
        await until(lambda n=restart: layer.disconnects > n, timeout=5)
        back = asyncio.create_task(asyncio.to_thread(own.start))
        during = []
        while not back.done():  # a socket every few milliseconds while Redis restarts
            during.append(asyncio.create_task(layer.new_channel()))
            await asyncio.sleep(0.003)
        await back
        after = []
        for _ in range(50):  # and while the subscriber reconnects
            after.append(asyncio.create_task(layer.new_channel()))
            await asyncio.sleep(0.003)
        during = await asyncio.gather(*during, return_exceptions=True)
        after = await asyncio.gather(*after, return_exceptions=True)
        refused = [r for r in during if not isinstance(r, str)]
        assert all(isinstance(r, REDIS_DOWN) and not isinstance(r, RuntimeError) for r in refused), refused
        assert all(isinstance(r, str) for r in after), [r for r in after if not isinstance(r, str)]
        channels += [r for r in during + after if isinstance(r, str)]
    assert await layer.subscribers_ready(timeout=5)
    for n, channel in enumerate(channels):  # every channel handed out receives
        await layer.send(channel, {"type": "t", "n": n})
        assert (await asyncio.wait_for(layer.receive(channel), 5))["n"] == n


@pytest.mark.processes  # a redis-server of its own
async def test_while_redis_is_away_each_new_channel_is_refused_after_one_attempt(own_layer):
    """During an outage a new subscription has the subscriber try once more, right away, and
    is refused when that fails: a socket joining several groups is not kept waiting a full
    `_SUBSCRIBE_WAIT` per group."""
    own, layer = own_layer
    await layer.new_channel()
    own.kill()
    await until(lambda: layer.disconnects, timeout=5)
    started = time.monotonic()
    for _ in range(5):
        with pytest.raises(REDIS_DOWN):
            await layer.new_channel()
    assert time.monotonic() - started < 2 * layers._SUBSCRIBE_WAIT
