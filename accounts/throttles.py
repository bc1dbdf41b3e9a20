"""Throttles for the unauthenticated account endpoints, and per user for minting socket
tickets and sending messages through REST.

Their counters live in the cache (Redis in production). While Redis is
unreachable they let requests through (and log it) rather than fail them with a
500: the outage is short, and login needs Redis for its socket ticket anyway.
"""

import hashlib
import logging
import unicodedata

from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from config.redis_clients import REDIS_DOWN

log = logging.getLogger("kirimin.api")


class FailOpen:
    """Throttle mixin: a cache outage allows the request instead of failing it."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except REDIS_DOWN as exc:
            log.warning("throttle %s: the cache is unreachable, allowing the request: %r", self.scope, exc)
            self.key = None
            return True


class RegisterThrottle(FailOpen, SimpleRateThrottle):
    """Registrations per client IP."""

    scope = "register"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class FailedLoginThrottle(FailOpen, SimpleRateThrottle):
    """Failed logins per (client IP, username): only failures are recorded.

    A correct password never counts, so apps that log in often are not locked
    out; once the limit is reached every attempt is refused until the window passes.
    """

    scope = "login"

    def get_cache_key(self, request, view):
        username = str(request.data.get("username", "")) if hasattr(request.data, "get") else ""
        # One bucket for every spelling that names the same account to a person: Unicode
        # compatibility forms, case, and white space anywhere.
        username = "".join(unicodedata.normalize("NFKC", username).casefold().split())[:150]
        # Hashed: a username may hold any character, a cache key may not.
        digest = hashlib.sha256(username.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": f"{self.get_ident(request)}:{digest}"}

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        return len(self.history) < self.num_requests or self.throttle_failure()

    def record_failure(self):
        if self.key is None:  # the cache was unreachable when the request came in
            return
        self.history.insert(0, self.now)
        try:
            self.cache.set(self.key, self.history, self.duration)
        except REDIS_DOWN as exc:
            log.warning("throttle %s: could not record a failed login: %r", self.scope, exc)


class FailedLoginIPThrottle(FailedLoginThrottle):
    """Failed logins per client IP over all usernames (credential stuffing)."""

    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class TicketThrottle(FailOpen, SimpleRateThrottle):
    """One-time socket tickets minted per `user` (login and is-user: `accounts.views.socket_config`):
    each opens a socket, so a client looping on them cannot make the server hold tickets (and
    sign-ins) without bound."""

    scope = "ticket"

    def __init__(self, user):
        super().__init__()
        self.user = user

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.user.pk}


class SendThrottle(FailOpen, UserRateThrottle):
    """Messages sent or edited through REST per user (a socket has its own per-frame rate limit);
    reading history and deleting are not counted."""

    scope = "send"

    def allow_request(self, request, view):
        return request.method not in ("POST", "PATCH") or super().allow_request(request, view)
