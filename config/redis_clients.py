"""Async Redis clients for the relay's own calls (tickets, presence).

redis-py's plain pool raises "Too many connections" once 100 calls are in flight
(a reconnect storm of a few hundred sockets does that). A blocking pool makes the
extra callers wait for a free connection instead, as the channel layer's does.
"""

from django.conf import settings
from redis import RedisError
from redis import asyncio as aioredis

POOL_TIMEOUT = 20  # seconds a caller may wait for a free connection
# What an unreachable Redis raises: callers that degrade instead of failing catch these.
REDIS_DOWN = (RedisError, OSError)


def async_redis(max_connections=100):
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.REDIS_URL, max_connections=max_connections, timeout=POOL_TIMEOUT,
        socket_timeout=5, socket_connect_timeout=5,
    )
    return aioredis.Redis(connection_pool=pool)
