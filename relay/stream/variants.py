"""Variants: the same entry told differently to some users, kept with it, so that live delivery,
a resume and `GET /api/events/` agree.

- An entry on several users' streams (`u`: {"<user id>": offset}) tells each of them their own
  stream's offset only (its text carries the other streams, groups' and channels').
- A block or a mute between a user and the event's actor, decided when the event is emitted (`v`).

An entry's variants are {"<user id>": kind}. `FROM_BLOCKED` and `MUTED` add a flag to the
frame; `WITHHELD` replaces it with a `skip` frame that carries only its place in the stream
(`seq`, `streams`), so that the recipient's offsets stay whole with nothing shown.
"""

import orjson

FROM_BLOCKED, MUTED, WITHHELD = "b", "m", "x"

_FLAGS = {FROM_BLOCKED: ',"from_blocked":true', MUTED: ',"muted":true'}


def text_for(message, user_id):
    """The text of the layer message `message` (a numbered entry) for `user_id`."""
    text = message["text"]
    if user_id is None:
        return text
    own, variants = message.get("u"), message.get("v")
    if own and (offset := own.get(str(user_id))) is not None:
        # "streams" is the frame's last field: its object ends the text.
        text = f'{text[:-2]}{"" if text.endswith("{}}") else ","}"user:{user_id}":{offset}}}}}'
    kind = variants.get(str(user_id)) if variants else None
    return text if kind is None else vary(text, kind)


def vary(text, kind):
    if WITHHELD in kind:
        frame = orjson.loads(text)
        return orjson.dumps({"identifier": frame["identifier"], "type": "skip", "seq": frame["seq"],
                             "streams": frame["streams"]}).decode()
    return text[:-1] + "".join(_FLAGS[k] for k in kind) + "}"

