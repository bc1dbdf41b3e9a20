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


_KINDS = {"postid": "post", "groupid": "group", "to": "user", "userid": "user", "id": "message",
          "messageid": "message", "message_id": "message"}


def unknown_ids(errors, ref=None):
    """A `not_found` frame when the only fault of a frame is ids that are no numbers
    (`"postid": "pm2yig6go"`, `config.fields.IdField`): they name nothing, as an id that
    does not exist. None for any other fault (`invalid_frame`)."""
    if not isinstance(errors, dict) or not errors:
        return None
    for faults in errors.values():
        if not isinstance(faults, list) or not all(getattr(f, "code", None) == "not_an_id" for f in faults):
            return None
    kinds = sorted({_KINDS.get(name, "object") for name in errors})
    return events.error("not_found", f"No such {' or '.join(kinds)}.", ref=ref,
                        details={name: ["Not an id: it names nothing."] for name in errors})


def ref_of(text):
    """The frame's `ref` if it has a valid one, so even a refused frame gets its answer matched."""
    try:
        ref = orjson.loads(text).get("ref")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return ref if isinstance(ref, str) and len(ref) <= 64 else None
