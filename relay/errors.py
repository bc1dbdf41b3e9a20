"""Domain errors as a socket shows them (SPEC §6 rule 6): the same codes and sentences as
REST, under the socket's names where they differ, never internals."""

import orjson

from config.errors import KiriminError
from relay.stream import events

# Domain error code -> socket error code, where they differ.
_SOCKET_CODES = {
    "validation_error": "invalid_frame",
    "not_authenticated": "unauthorized",
    "invalid_token": "unauthorized",
    "throttled": "rate_limited",
}


def socket_error(exc: KiriminError, ref=None):
    """The `error` frame for a domain error."""
    return events.error(_SOCKET_CODES.get(exc.code, exc.code), str(exc.detail), ref=ref, details=exc.details)


def ref_of(text):
    """The frame's `ref` if it has a valid one, so even a refused frame gets its answer matched."""
    try:
        ref = orjson.loads(text).get("ref")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return ref if isinstance(ref, str) and len(ref) <= 64 else None
