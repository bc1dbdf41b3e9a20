"""Channel layers tuned for a long-lived relay.

- `RedisChannelLayer`: channels-redis builds a plain `ConnectionPool` that raises
  "Too many connections" once `max_connections` are busy (seen with 2000 sockets
  connecting at once). A `BlockingConnectionPool` makes the extra callers wait
  for a free connection instead.
- `RedisPubSubChannelLayer`: when its subscriber connection breaks (Redis
  restarted, or Redis dropped a subscriber that fell behind its output-buffer
  limit), channels-redis logs, reconnects and resubscribes, but whatever was
  published meanwhile is gone and nobody is told. This one counts those breaks in
  `disconnects`, so the hub can tell its sockets to `resync`.
"""

import asyncio
import logging

from channels_redis import core, pubsub
from redis import asyncio as aioredis

from config.redis_clients import POOL_TIMEOUT

logger = logging.getLogger("kirimin.relay")


class RedisChannelLayer(core.RedisChannelLayer):
    """RedisChannelLayer whose pools wait for a connection rather than fail."""

    pool_timeout = POOL_TIMEOUT

    def create_pool(self, index):
        host = dict(self.hosts[index])
        address = host.pop("address")
        host.setdefault("timeout", self.pool_timeout)
        return aioredis.BlockingConnectionPool.from_url(address, **host)


class _CountingShard(pubsub.RedisSingleShardConnection):
    """channels-redis' receive loop, counting the breaks it recovers from."""

    def __init__(self, host, channel_layer, on_break):
        super().__init__(host, channel_layer)
        self._on_break = on_break

    async def _do_receiving(self):
        while True:
            try:
                if self._pubsub and self._pubsub.subscribed:
                    message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
                    self._receive_message(message)
                else:
                    await asyncio.sleep(0.1)
            except (TimeoutError, asyncio.CancelledError, GeneratorExit):
                raise
            except Exception as exc:
                self._on_break()
                logger.warning("channel layer subscriber connection broke (messages may be lost): %r", exc)
                await asyncio.sleep(1)


class RedisPubSubChannelLayer(pubsub.RedisPubSubChannelLayer):
    """RedisPubSubChannelLayer that counts subscriber disconnects (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.disconnects = 0

    def _count_break(self):
        self.disconnects += 1

    def _get_layer(self):
        fresh = asyncio.get_running_loop() not in self._layers
        layer = super()._get_layer()
        if fresh:  # shards connect lazily: swap them before first use
            layer._shards = [_CountingShard(shard.host, layer, self._count_break) for shard in layer._shards]
        return layer
