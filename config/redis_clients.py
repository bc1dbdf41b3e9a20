"""Async Redis clients for the relay's own calls (tickets, presence).

redis-py's plain pool raises "Too many connections" once 100 calls are in flight
(a reconnect storm of a few hundred sockets does that). A blocking pool makes the
extra callers wait for a free connection instead, as the channel layer's does.
"""

import functools

from django.conf import settings
from redis import RedisError
from redis import asyncio as aioredis
from redis import utils as redis_utils

POOL_TIMEOUT = 20  # seconds a caller may wait for a free connection
# What an unreachable Redis raises: callers that degrade instead of failing catch these.
REDIS_DOWN = (RedisError, OSError)


def async_redis(max_connections=100):
    pool = aioredis.BlockingConnectionPool.from_url(
        settings.REDIS_URL, max_connections=max_connections, timeout=POOL_TIMEOUT,
        socket_timeout=5, socket_connect_timeout=5,
    )
    return aioredis.Redis(connection_pool=pool)


# redis-py 8 reads its own version from the installed package's metadata (a file
# read and an email-header parse) for every new connection; a burst of handshakes
# opening pool connections spent most of its time there. The version cannot change
# while the process runs, so read it once.
if not hasattr(redis_utils.get_lib_version, "cache_info"):
    redis_utils.get_lib_version = functools.cache(redis_utils.get_lib_version)
