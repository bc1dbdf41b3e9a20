"""One-time WebSocket tickets.

A ticket is a random, unguessable string bound to one user. It lives in the
cache (Redis when REDIS_URL is set, so every server process sees it), expires
after SOCKET_TICKET_TTL seconds, and is consumed atomically: `cache.delete`
reports whether *this* call removed the key, so of two connections racing for
one ticket exactly one wins.
"""

import asyncio
import re
import secrets
import weakref
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from redis import ConnectionError as RedisConnectionError

from config.batching import Batched
from config.errors import ServiceUnavailable
from config.redis_clients import REDIS_DOWN, async_redis

_PREFIX = "socket-ticket:"
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


@dataclass(frozen=True)
class Ticket:
    id: str
    expires_in: int


def issue_ticket(user) -> Ticket:
    """Mint a fresh ticket for `user`."""
    ttl = settings.SOCKET_TICKET_TTL
    ticket = secrets.token_urlsafe(32)
    try:
        cache.set(_PREFIX + ticket, user.pk, timeout=ttl)
    except REDIS_DOWN as exc:  # Redis is down: say so, don't fail with a 500
        raise ServiceUnavailable("Live connections are unavailable for a moment. Try again in a few seconds.",
                                 details={"retry_after": 5}) from exc
    return Ticket(id=ticket, expires_in=ttl)


def consume_ticket(ticket) -> int | None:
    """The user id the ticket was issued to, or None; a ticket answers once."""
    if not isinstance(ticket, str) or not _SHAPE.fullmatch(ticket):  # `$` alone lets "...\n" through
        return None
    key = _PREFIX + ticket
    user_id = cache.get(key)
    if user_id is None:
        return None
    # Only the caller whose delete removed the key may use the ticket.
    if not cache.delete(key):
        return None
    return user_id


_consume_in_thread = sync_to_async(consume_ticket, thread_sensitive=False)
_getdels = weakref.WeakKeyDictionary()  # event loop -> its batched GETDELs


def _getdel_batches():
    """GETDELs of this event loop, sent together: everything asked while one pipeline is out
    goes in the next, on one connection. A connect storm of 2000 sockets otherwise queued
    on the pool's connections, one round trip each, and the last ones gave up."""
    loop = asyncio.get_running_loop()
    batches = _getdels.get(loop)
    if batches is None:
        client = async_redis()

        async def getdel_all(keys):
            async def pipeline():
                async with client.pipeline(transaction=False) as pipe:
                    for key in keys:
                        pipe.getdel(key)
                    return await pipe.execute()

            try:
                return await pipeline()
            except RedisConnectionError:
                # A pooled connection that died with a Redis restart fails once; a fresh one works.
                return await pipeline()

        batches = _getdels[loop] = Batched(getdel_all, name="ticket-getdel")
    return batches


async def aconsume_ticket(ticket) -> int | None:
    """`consume_ticket` for the event loop (the relay's handshake).

    On Redis it is one atomic GETDEL on the cache's own key, batched with the other
    handshakes of the moment (`_getdel_batches`): no thread hop and no connection per
    handshake (in redis-py 8 every new connection also read package metadata, which
    dominated connect time).
    """
    backend = caches["default"]  # `cache` is a proxy: look at the backend it stands for
    if not isinstance(backend, RedisCache):
        return await _consume_in_thread(ticket)
    if not isinstance(ticket, str) or not _SHAPE.fullmatch(ticket):
        return None
    raw = await _getdel_batches().submit(backend.make_and_validate_key(_PREFIX + ticket))
    # RedisCache stores integers as plain numbers, so the user id reads back as digits.
    return int(raw) if raw is not None else None
