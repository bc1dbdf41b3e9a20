"""Channel layers tuned for a long-lived relay.

- `RedisChannelLayer`: channels-redis builds a plain `ConnectionPool` that raises
  "Too many connections" once `max_connections` are busy (seen with 2000 sockets
  connecting at once). A `BlockingConnectionPool` makes the extra callers wait
  for a free connection instead.
- `RedisPubSubChannelLayer`: when its subscriber connection breaks (Redis
  restarted, or Redis dropped a subscriber that fell behind its output-buffer
  limit), channels-redis logs, reconnects and resubscribes, but whatever was
  published meanwhile is gone and nobody is told. This one counts those breaks in
  `disconnects`, so the hub's upkeep joins the stream's layer group again (what was
  lost is read back from the stream).

  Only its receive loop reconnects that connection. In channels-redis a SUBSCRIBE
  that met the broken connection reconnected it too, beside the receive loop, and
  the two handshakes read at once: a socket that connected just as Redis came back
  was closed with 1011. Here a new subscription asks the receive loop to try at once
  and waits for that attempt (up to `_SUBSCRIBE_WAIT`): it goes out if the connection
  came back, and fails at once if not.

  It also moves more per trip. channels-redis publishes one message per round
  trip, under a lock, so a process sends at most one event per turn of its event
  loop: with the loop busy writing to a thousand sockets, that capped a busy
  group at about 70 events a second. Here publishes queue up and go out together
  in one pipeline, in order; and the subscriber reads everything Redis has sent
  before handing over, so the hub can handle a backlog in one pass.
"""

import asyncio
import logging

from channels_redis import core, pubsub
from redis import asyncio as aioredis
from redis.asyncio.client import PubSub

from config import metrics
from config.batching import Batched
from config.redis_clients import POOL_TIMEOUT

logger = logging.getLogger("kirimin.relay")


async def group_send_many(layer, messages):
    """Send (group, message) pairs in this order; one result per pair: None or the exception.

    Layers with a `group_send_many` of their own send them in one go (one pipeline);
    any other layer gets one `group_send` after another."""
    own = getattr(layer, "group_send_many", None)
    if own is not None:
        return await own(messages)
    results = []
    for group, message in messages:
        try:
            await layer.group_send(group, message)
            results.append(None)
        except Exception as exc:
            results.append(exc)
    return results


class RedisChannelLayer(core.RedisChannelLayer):
    """RedisChannelLayer whose pools wait for a connection rather than fail."""

    pool_timeout = POOL_TIMEOUT

    def create_pool(self, index):
        host = dict(self.hosts[index])
        address = host.pop("address")
        host.setdefault("timeout", self.pool_timeout)
        return aioredis.BlockingConnectionPool.from_url(address, **host)


_READ_AHEAD = 1000  # messages the subscriber takes in one go
_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0)  # seconds between reconnect attempts of a broken subscriber
_SUBSCRIBE_WAIT = 2.0  # seconds a new subscription waits for a broken subscriber to come back
try:  # what redis-py's hiredis reader returns when its buffer holds no whole reply
    from redis._parsers.hiredis import NOT_ENOUGH_DATA as _NOT_ENOUGH_DATA
except ImportError:
    _NOT_ENOUGH_DATA = None


class SubscriberDown(ConnectionError):
    """The layer's subscriber connection is down, or being recovered, so no new subscription
    can go out: Redis is away (callers treat it as `REDIS_DOWN`)."""

    def __init__(self):
        super().__init__("the channel layer's subscriber connection is down")


class _PubSub(PubSub):
    """redis-py's PubSub, except that a failed command or read only disconnects and raises.

    redis-py reconnects inside whichever call failed, so the receive loop and a concurrent
    SUBSCRIBE could both be handshaking on the one connection ("read() called while another
    coroutine is already waiting"), or one could send while the other was mid-handshake.
    Here the shard's receive loop is the only place a broken subscriber connection is
    connected again."""

    async def _reconnect(self, conn, error=None, failure_count=None, *args, **kwargs):
        await conn.disconnect(error=error, failure_count=failure_count)


class _Shard(pubsub.RedisSingleShardConnection):
    """channels-redis' shard connection: batched publishes, a receive loop that reads ahead,
    counts the breaks it recovers from and alone reconnects the subscriber connection."""

    def __init__(self, host, channel_layer, on_break):
        super().__init__(host, channel_layer)
        self._on_break = on_break
        self._publishes = Batched(self._publish_all, name="relay-layer-publish")
        # Clear from a break until the subscriber has reconnected and sent its SUBSCRIBEs again.
        self.listening = asyncio.Event()
        self.listening.set()
        self._connecting = False  # the receive loop is reconnecting (the handshake is under way)
        self._attempts = 0  # reconnect attempts the receive loop has started
        self._last_failed = 0  # the latest of them that failed
        self._wake = asyncio.Event()  # cuts the receive loop's wait before its next attempt

    def _ensure_redis(self):
        if self._redis is None:
            super()._ensure_redis()
            self._pubsub = _PubSub(self._redis.connection_pool)

    async def publish(self, channel, message):
        await self.queue_publish(channel, message)

    def queue_publish(self, channel, message) -> asyncio.Future:
        """Queue a PUBLISH for the next pipeline (queued publishes go out in order)."""
        return self._publishes.submit((channel, message))

    async def _publish_all(self, publishes):
        async with self._lock:
            self._ensure_redis()
            async with self._redis.pipeline(transaction=False) as pipe:
                for channel, message in publishes:
                    pipe.publish(channel, message)
                await pipe.execute()
        return [None] * len(publishes)

    # --- the subscriber connection -------------------------------------------------------
    def _usable(self):
        """Whether a SUBSCRIBE may go out now: nothing is subscribed yet (so the receive loop
        leaves the connection alone), or the connection is up, past its handshake, and not
        being recovered."""
        if not self._pubsub.subscribed:
            return True
        conn = self._pubsub.connection
        return self.listening.is_set() and not self._connecting and conn.is_connected

    async def _wait_usable(self, timeout):
        """Return once a SUBSCRIBE may go out. If the connection is being recovered, have the
        receive loop try now and wait for that attempt: raise ConnectionError if it fails (so
        a socket of a burst during an outage is refused at once, not after every retry), or
        if nothing comes of it within `timeout` seconds."""
        if self._usable():
            return
        attempt = self._attempts
        self._wake.set()
        deadline = asyncio.get_running_loop().time() + timeout
        while not self._usable():
            if self._last_failed > attempt or asyncio.get_running_loop().time() >= deadline:
                raise SubscriberDown()
            await asyncio.sleep(0.01)

    async def subscribe(self, channel):
        if channel in self._subscribed_to:
            return
        self._ensure_redis()
        self._ensure_receiver()
        # While the receive loop reconnects, wait for it (outside the lock, so a burst of
        # sockets waits side by side), rather than connect a second time beside it.
        await self._wait_usable(_SUBSCRIBE_WAIT)
        async with self._lock:
            if channel in self._subscribed_to:
                return
            if not self._usable():  # broke again meanwhile
                raise SubscriberDown()
            await self._pubsub.subscribe(channel)
            self._subscribed_to.add(channel)

    async def unsubscribe(self, channel):
        async with self._lock:
            if channel not in self._subscribed_to:
                return
            self._subscribed_to.discard(channel)
            if self._usable():
                await self._pubsub.unsubscribe(channel)
            else:
                # The connection is down: only make sure the reconnect does not subscribe
                # to it again (redis-py resubscribes to everything in `channels`).
                for key in self._pubsub._normalize_keys({channel: None}):
                    self._pubsub.channels.pop(key, None)

    def _broke(self, reason):
        """Once per outage: what was published meanwhile is gone."""
        self.listening.clear()
        metrics.REDIS_OUTAGES.inc()
        self._on_break()
        logger.warning("channel layer subscriber connection broke (messages may be lost): %r", reason)

    async def _do_receiving(self):
        failures = 0
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    if not self._pubsub.connection.is_connected:
                        # Closed by a failed read here or a failed command elsewhere. On
                        # connect, redis-py subscribes to every channel again.
                        if not failures:
                            failures = 1
                            self._broke(ConnectionError("the subscriber connection was closed"))
                        self._attempts += 1
                        self._wake.clear()  # a subscription that comes from now on waits for the next one
                        self._connecting = True
                        try:
                            await self._pubsub.connect()
                        except Exception:
                            self._last_failed = self._attempts
                            raise
                        finally:
                            self._connecting = False
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    if failures:
                        failures = 0
                        self.listening.set()
                        logger.warning("channel layer subscriber reconnected and subscribed again")
                    self._receive_message(message)
                    if message is not None:
                        await self._receive_buffered()
                else:
                    failures = 0
                    self.listening.set()  # nothing to subscribe to
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as exc:
                if not failures:
                    self._broke(exc)
                failures += 1
                try:  # until the next attempt, or sooner if a new subscription is waiting
                    await asyncio.wait_for(self._wake.wait(), _RETRY_DELAYS[min(failures, len(_RETRY_DELAYS)) - 1])
                except TimeoutError:
                    pass

    async def _receive_buffered(self):
        """Hand over what the last read already brought, up to `_READ_AHEAD` messages.

        A published message, as hiredis parsed it, goes straight to `_receive_message`:
        `get_message` costs tens of microseconds per message in wrappers (timeout, retry,
        health check, a metrics hook) that matter only when it waits on the socket. Any
        other reply (a subscribe confirmation) goes through redis-py's `handle_message`,
        which keeps its bookkeeping. Without hiredis, `get_message(timeout=0)` does it.
        """
        parser = getattr(self._pubsub.connection, "_parser", None)
        reader = getattr(parser, "_reader", None) if getattr(parser, "_connected", False) else None
        if _NOT_ENOUGH_DATA is None:
            reader = None
        for _ in range(_READ_AHEAD):
            if reader is None:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0)
                if message is None:
                    return
            else:
                response = reader.gets()
                if response is _NOT_ENOUGH_DATA or response is False:
                    return
                if isinstance(response, Exception):
                    raise response
                if type(response) is list and len(response) == 3 and response[0] == b"message":
                    message = {"channel": response[1], "data": response[2]}
                else:
                    message = await self._pubsub.handle_message(response, ignore_subscribe_messages=True)
            self._receive_message(message)


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer that counts subscriber disconnects (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.disconnects = 0

    def _count_break(self):
        self.disconnects += 1

    async def group_send_many(self, messages):
        """`group_send` of every (group, message) pair, queued in order, sent in one pipeline."""
        layer = self._get_layer()
        futures = []
        for group, message in messages:
            channel = layer._get_group_channel_name(group)
            futures.append(layer._get_shard(channel).queue_publish(channel, self.serialize(message)))
        return list(await asyncio.gather(*futures, return_exceptions=True))

    async def discard_channel(self, channel):
        """Forget a channel made by `new_channel` and unsubscribe from it. channels-redis keeps
        every such channel subscribed until a `receive` on it is cancelled, so a caller that made
        one for a single round trip (the health check) must drop it, or it leaks one Redis
        subscription per call."""
        layer = self._get_layer()
        if layer.channels.pop(channel, None) is not None:
            await layer._get_shard(channel).unsubscribe(channel)

    async def subscribers_ready(self, timeout):
        """Whether every subscriber connection of this event loop's layer is up and subscribed
        again after its last break (waits up to `timeout` seconds). Events published from then
        on reach this process."""
        layer = self._get_layer()
        try:
            async with asyncio.timeout(timeout):
                for shard in layer._shards:
                    await shard.listening.wait()
        except TimeoutError:
            return False
        return True

    def _get_layer(self):
        fresh = asyncio.get_running_loop() not in self._layers
        layer = super()._get_layer()
        if fresh:  # shards connect lazily: swap them before first use
            layer._shards = [_Shard(shard.host, layer, self._count_break) for shard in layer._shards]
        return layer
