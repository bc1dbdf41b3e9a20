"""Channel layer tuned for a long-lived relay.

channels-redis builds a plain `ConnectionPool` that raises "Too many connections"
once `max_connections` are busy (seen with 2000 sockets connecting at once).
A `BlockingConnectionPool` makes the extra callers wait for a free connection instead.
"""

from channels_redis import core
from redis import asyncio as aioredis


class RedisChannelLayer(core.RedisChannelLayer):
    """RedisChannelLayer whose pools wait for a connection rather than fail."""

    pool_timeout = 20  # seconds a caller may wait for a free connection

    def create_pool(self, index):
        host = dict(self.hosts[index])
        address = host.pop("address")
        host.setdefault("timeout", self.pool_timeout)
        return aioredis.BlockingConnectionPool.from_url(address, **host)
