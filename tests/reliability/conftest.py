"""Shared by the reliability tests: real server processes under faults, load and hostile input.

`e2e_stack` and `server_logs_on_failure` come from the root conftest. The servers
run on the stack under test (PostgreSQL and Redis on the production-stack run,
SQLite alone on the embedded default). `hostile_server` lifts the relay's rate
limit and the sign-up throttles, so every generated frame and request reaches the
code that must refuse it; the rate limiter has its own test.
"""

import pytest

from tests import servers
from tests.conftest import DATABASE_URL

UNLIMITED = {
    "RELAY_RATE": 1_000_000, "RELAY_BURST": 1_000_000, "RELAY_MAX_ANONYMOUS_PER_IP": 100_000,
    "THROTTLE_REGISTER": "100000/min", "THROTTLE_LOGIN": "100000/min", "THROTTLE_LOGIN_IP": "100000/min",
    "THROTTLE_TICKET": "100000/min", "THROTTLE_SEND": "100000/min",
}


@pytest.fixture(autouse=True)
def _fast_tests():
    """Override the suite's cache.clear(): on Redis that is FLUSHDB, which would wipe the layer
    groups and presence of the servers running across these tests. Only the throttle counters
    go, so that the sign-ups of one test (all from 127.0.0.1) never throttle the next one's."""
    _clear_throttles()
    yield


def _clear_throttles():
    from django.conf import settings

    if not settings.REDIS_URL:  # the embedded default: each server has its own in-memory cache
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        keys = list(client.scan_iter(match="kirimin:*:throttle_*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    """A redis-server of the module's own, which its tests may kill and restart."""
    redis_server = servers.RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield redis_server
    redis_server.kill()


@pytest.fixture(scope="module")
def own_redis_stack(tmp_path_factory, own_redis):
    """A fresh database of the stack under test, with the module's own Redis as cache and channel layer."""
    stack = servers.Stack.prepare(tmp_path_factory.mktemp("own-redis"), database_url=DATABASE_URL,
                                  redis_url=own_redis.url)
    yield stack
    stack.drop()


@pytest.fixture(scope="session")
def hostile_server(e2e_stack):
    """One server with the rate limit and sign-up throttles lifted."""
    server = servers.Server.start(e2e_stack, server="uvicorn", **UNLIMITED)
    yield server
    server.stop()


def tracebacks(server):
    """The error lines and tracebacks in a server's whole log (empty if none)."""
    text = server.log_path.read_text(errors="replace")
    return [line for line in text.splitlines() if "Traceback" in line or " ERROR " in line]
