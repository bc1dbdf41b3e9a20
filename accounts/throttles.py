"""Throttles for the unauthenticated account endpoints."""

import hashlib

from rest_framework.throttling import SimpleRateThrottle


class RegisterThrottle(SimpleRateThrottle):
    """Registrations per client IP."""

    scope = "register"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class FailedLoginThrottle(SimpleRateThrottle):
    """Failed logins per (client IP, username): only failures are recorded.

    A correct password never counts, so apps that log in often are not locked
    out; once the limit is reached every attempt is refused until the window passes.
    """

    scope = "login"

    def get_cache_key(self, request, view):
        username = str(request.data.get("username", ""))[:150].lower() if hasattr(request.data, "get") else ""
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
        self.history.insert(0, self.now)
        self.cache.set(self.key, self.history, self.duration)


class FailedLoginIPThrottle(FailedLoginThrottle):
    """Failed logins per client IP over all usernames (credential stuffing)."""

    scope = "login_ip"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
