"""The one event builder: every frame the server sends is built here.

REST views, socket handlers and the admin all emit events through these
functions, so a frame looks the same whichever way its action came in.
`encode` turns a frame into the text written to sockets, once per event.
"""

import orjson

IDENTIFIER = "kirimin"


def frame(type_, **fields):
    """A server frame: {"identifier": "kirimin", "type": ..., **fields}.

    Every type must be catalogued in `relay.frames.SERVER_FRAMES` (the AsyncAPI document).
    """
    assert type_ in _catalogue(), f"server frame {type_!r} is missing from relay.frames.SERVER_FRAMES"
    return {"identifier": IDENTIFIER, "type": type_, **fields}


def _catalogue():
    from relay.frames import SERVER_FRAMES

    return SERVER_FRAMES


def encode(payload) -> str:
    """JSON text for a frame; called once per event, never per recipient."""
    return orjson.dumps(payload).decode()


def connection(*, client_id, user, groups):
    return frame("connection", client_id=client_id, user=user, groups=groups)


def pong(ref=None):
    return frame("pong", **({"ref": ref} if ref is not None else {}))


def ack(ref=None, **result):
    return frame("ack", **({"ref": ref} if ref is not None else {}), **result)


def error(code, message, *, ref=None, details=None):
    fields = {"code": code, "message": message}
    if ref is not None:
        fields["ref"] = ref
    if details is not None:
        fields["details"] = details
    return frame("error", **fields)


def subscribed(channel, *, ref=None):
    return ack(ref, subscribed=channel)


def unsubscribed(channel, *, ref=None):
    return ack(ref, unsubscribed=channel)


def resync(reason):
    """Tells a client it may have missed events: reconnect with `since=`."""
    return frame("resync", reason=reason)


# --- domain events ----------------------------------------------------------------------------
def iso(dt):
    """Timestamps exactly as the REST serializers render them (ISO 8601, UTC, "Z")."""
    value = dt.isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value


def _user(user):
    from accounts.serializers import user_dict

    return user_dict(user)


def message(msg):
    """`sendmessage` for a stored message (group or direct); `msg.sender` is loaded."""
    from groups.serializers import message_dict

    return frame("sendmessage", **message_dict(msg))


def join(group_id, user):
    return frame("join", groupid=group_id, user=_user(user))


def leave(group_id, user):
    return frame("leave", groupid=group_id, user=_user(user))


def kick(group_id, user, by, ban):
    return frame("kick", groupid=group_id, user=_user(user), by=_user(by), ban=ban)


def typing(sender, *, to=None, groupid=None):
    target = {"groupid": groupid} if groupid is not None else {"to": to}
    return frame("typing", **{"from": _user(sender)}, **target)


def postlike(*, postid, userid, liked, likes_count):
    return frame("postlike", postid=postid, userid=userid, liked=liked, likes_count=likes_count)


def postdelete(*, postid, groupid):
    return frame("postdelete", postid=postid, groupid=groupid)


def deletemessage(*, message_id, groupid=None):
    fields = {"id": message_id}
    if groupid is not None:
        fields["groupid"] = groupid
    return frame("deletemessage", **fields)


def friendrequest(request_id, sender):
    return frame("friendrequest", id=request_id, **{"from": _user(sender)})


def notification(note):
    return frame("notification", id=note.pk, kind=note.kind, message=note.message, data=note.data)
