"""What one socket may send: frame size, frames per second, typing indicators."""

import time

CLOSE_TOO_BIG = 1009


def too_big(text, max_bytes):
    """Whether a text frame is over `max_bytes` in UTF-8 (encoded only when it could be)."""
    return len(text) > max_bytes or (len(text) * 4 > max_bytes and len(text.encode()) > max_bytes)


class TokenBucket:
    """`rate` frames a second on average, `burst` at once."""

    def __init__(self, rate, burst):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.last_refill = time.monotonic()

    def take(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last_refill) * self.rate)
        self.last_refill = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Cooldown:
    """At most one go every `seconds`."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.last = 0.0

    def allow(self):
        now = time.monotonic()
        if now - self.last < self.seconds:
            return False
        self.last = now
        return True
