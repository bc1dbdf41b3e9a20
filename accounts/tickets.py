"""One-time WebSocket tickets.

A ticket is a random, unguessable string bound to one user. It lives in the
cache (Redis when REDIS_URL is set, so every server process sees it), expires
after SOCKET_TICKET_TTL seconds, and is consumed atomically: `cache.delete`
reports whether *this* call removed the key, so of two connections racing for
one ticket exactly one wins.
"""

import re
import secrets
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import cache

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
    cache.set(_PREFIX + ticket, user.pk, timeout=ttl)
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


aconsume_ticket = sync_to_async(consume_ticket, thread_sensitive=False)
