"""After Redis drops the pub/sub subscriber (it does to one that falls behind its output
buffer, and on restarts), whatever was published meanwhile is gone: the hub asks its sockets
to `resync`. That request must come only once events reach this process again, or a client
re-reads its history and then misses what is published before the layer resubscribes."""

import asyncio
import time
import uuid

import pytest
from channels.layers import get_channel_layer
from redis import asyncio as aioredis

from relay import hub, layers
from tests.conftest import REDIS_URL, needs_redis
from tests.relay.test_hot_path import FakeSocket, frames_in

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


async def test_the_hub_asks_for_resync_only_once_events_reach_it_again(pubsub_layer, monkeypatch, settings):
    settings.RELAY_PRESENCE_TTL = 3  # the hub's upkeep runs every second
    monkeypatch.setattr(layers, "_RETRY_DELAYS", (3.0,))  # the subscriber retries 3 s after a break
    h = hub.Hub(layer=pubsub_layer)
    await h.start()
    socket = FakeSocket(1, h.new_client_id())
    topic = f"group.{uuid.uuid4().int % 10**9}"
    await h.attach(socket, [topic])
    try:
        await kill_subscriber(pubsub_layer)
        broke = time.monotonic()
        await until(lambda: any('"resync"' in text for text in texts_of(socket)), timeout=10)
        assert time.monotonic() - broke > 2.5  # not before the subscriber came back
        # A client that got `resync` re-reads its history; what is published after must arrive.
        await pubsub_layer.group_send(topic, {"type": "relay.event", "t": topic, "text": '"after resync"'})
        await until(lambda: '"after resync"' in texts_of(socket), timeout=5)
    finally:
        await h.stop()
