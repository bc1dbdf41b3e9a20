"""Variants: the same entry told differently to a few users (a block or a mute between them
and the actor), decided when the event is emitted and kept with it, so that live delivery,
a resume and `GET /api/events/` agree.

An entry's variants are {"<user id>": kind}. `FROM_BLOCKED` and `MUTED` add a flag to the
frame; `WITHHELD` replaces it with a `skip` frame that carries only its place in the stream
(`seq`, `streams`), so that the recipient's offsets stay whole with nothing shown.
"""

import orjson

FROM_BLOCKED, MUTED, WITHHELD = "b", "m", "x"

_FLAGS = {FROM_BLOCKED: ',"from_blocked":true', MUTED: ',"muted":true'}


def text_for(message, user_id):
    """The text of the layer message `message` (a numbered entry) for `user_id`."""
    variants = message.get("v")
    kind = variants.get(str(user_id)) if variants and user_id is not None else None
    return message["text"] if kind is None else vary(message["text"], kind)


def vary(text, kind):
    if WITHHELD in kind:
        frame = orjson.loads(text)
        return orjson.dumps({"identifier": frame["identifier"], "type": "skip", "seq": frame["seq"],
                             "streams": frame["streams"]}).decode()
    return text[:-1] + "".join(_FLAGS[k] for k in kind) + "}"


def merge(*parts):
    """{user id: kind} from several {user id: kind} (kinds of one user joined: "bm")."""
    out = {}
    for part in parts:
        for user_id, kind in part.items():
            key = str(user_id)
            out[key] = "".join(sorted(set(out.get(key, "")) | set(kind)))
    return out
