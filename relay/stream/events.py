"""The one event builder: every frame the server sends is built here.

REST views, socket handlers and the admin all emit events through these
functions, so a frame looks the same whichever way its action came in.
`encode` turns a frame into the text written to sockets, once per event.
"""

from relay.stream.publish import encode

IDENTIFIER = "kirimin"


# The stateful frames: numbered in the stream (`seq`, `streams`) and replayed on resume.
STATEFUL_TYPES = frozenset({
    "sendmessage", "postlike", "postdelete", "join", "leave", "kick", "friendrequest", "notification",
    "deletemessage", "editmessage", "unread", "read", "presence", "unfriend", "groupupdate", "role", "postedit",
    "block", "mute", "skip", "postcreate", "reaction", "groupcreate", "announcement",
})
# Frames other services publish (`POST /api/publish/`): "custom.<name>", stateful too.
CUSTOM_PREFIX = "custom."
CUSTOM = CUSTOM_PREFIX + "*"
# Every server frame type; each is catalogued in `relay.stream.catalogue.SERVER_FRAMES` (the AsyncAPI document).
SERVER_TYPES = STATEFUL_TYPES | {"connection", "pong", "ping", "ack", "error", "resync", "typing", "reconnect",
                                 CUSTOM}


def is_stateful(type_):
    """Whether frames of `type_` are numbered in the stream (carry `seq` and `streams`)."""
    return type_ in STATEFUL_TYPES or type_.startswith(CUSTOM_PREFIX)


def frame(type_, **fields):
    """A server frame: {"identifier": "kirimin", "type": ..., **fields}."""
    assert type_ in SERVER_TYPES or type_.startswith(CUSTOM_PREFIX), \
        f"server frame {type_!r} is not catalogued in SERVER_TYPES"
    return {"identifier": IDENTIFIER, "type": type_, **fields}


__all__ = ["encode", "frame"]


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


def resync(reason, **fields):
    """Tells a client that the stream cannot take it from where it was: reload through REST."""
    return frame("resync", reason=reason, **fields)


# --- domain events ----------------------------------------------------------------------------
def iso(dt):
    """Timestamps exactly as the REST serializers render them (ISO 8601, UTC, "Z")."""
    value = dt.isoformat()
    return value[:-6] + "Z" if value.endswith("+00:00") else value


def user_shape(user):
    """The SPEC user shape, {"id", "username", "display_name"}, without a serializer round trip."""
    return {"id": user.pk, "username": user.username, "display_name": user.display_name or user.username}


_user = user_shape


def message(data):
    """`sendmessage` for a stored message, as `groups.serializers.message_dict` shows it."""
    return frame("sendmessage", **data)


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


def reaction(*, user, emoji, on, counts, **target):
    """`user` added (`on`) or removed `emoji` on a message (`messageid`, and `groupid` or `to`) or a
    post (`postid`); `counts` are the target's counts per emoji now."""
    return frame("reaction", **target, user=_user(user), emoji=emoji, on=on, counts=counts)


def postcreate(post):
    """A new post, to those who may see it."""
    return frame("postcreate", postid=post.pk, groupid=post.group_id, author=_user(post.author), content=post.content,
                 created_at=iso(post.created_at))


def postedit(post):
    """A post's author changed its text."""
    return frame("postedit", postid=post.pk, groupid=post.group_id, author=_user(post.author), content=post.content,
                 edited_at=iso(post.edited_at))


def groupcreate(group, members_count=1):
    """A public group appeared (created, or made public): to the `groups` channel's subscribers."""
    return frame("groupcreate", groupid=group.pk, name=group.name, description=group.description,
                 owner=_user(group.owner), members_count=members_count)


def groupupdate(group):
    """A group's name, description or privacy changed."""
    return frame("groupupdate", groupid=group.pk, name=group.name, description=group.description,
                 is_private=group.is_private)


def role(group_id, user, role_, *, by):
    """`user`'s role in the group is now `role_` (`admin` or `member`), set by `by` (the owner)."""
    return frame("role", groupid=group_id, user=_user(user), role=role_, by=_user(by))


def postdelete(*, postid, groupid):
    return frame("postdelete", postid=postid, groupid=groupid)


def editmessage(data):
    """`editmessage` for an edited message, as `groups.serializers.message_dict` shows it."""
    return frame("editmessage", **data)


def deletemessage(*, message_id, by, groupid=None):
    fields = {"id": message_id}
    if groupid is not None:
        fields["groupid"] = groupid
    return frame("deletemessage", **fields, by=_user(by))


def unread(*, unread_count, mention_count, groupid=None, **target):
    """What is left unread in one conversation (`groupid`, or `with` a user), for the reader's sockets."""
    where = {"groupid": groupid} if groupid is not None else {"with": target["with"]}
    return frame("unread", **where, unread_count=unread_count, mention_count=mention_count)


def read(*, reader, message_id, at, groupid=None, **target):
    """A read receipt: `reader` has read the conversation (`groupid`, or `with` them) up to `message_id`."""
    where = {"groupid": groupid} if groupid is not None else {"with": target["with"]}
    return frame("read", **where, user=_user(reader), message_id=message_id, at=at)


def presence(user, *, online, last_seen):
    """`user` came online or went offline (announced once the debounce has passed)."""
    return frame("presence", user=_user(user), online=online, last_seen=iso(last_seen) if last_seen else None)


def friendrequest(request_id, sender):
    return frame("friendrequest", id=request_id, **{"from": _user(sender)})


def unfriend(*, by, user):
    """`by` ended their friendship with `user` (both are told)."""
    return frame("unfriend", by=_user(by), user=_user(user))


def block(user, *, blocked, friendship_ended=False):
    """To the blocker's own sockets: they blocked (or unblocked) `user`. `user` is never told."""
    return frame("block", user=_user(user), blocked=blocked, friendship_ended=friendship_ended)


def mute(user, *, muted, expires_at=None):
    """To the muter's own sockets: they muted (or unmuted) `user`."""
    return frame("mute", user=_user(user), muted=muted, expires_at=iso(expires_at) if expires_at else None)


def notification(note):
    return frame("notification", id=note.pk, kind=note.kind, message=note.message, data=note.data)


def custom(type_, data, *, by):
    """A frame another service published (`type_` "custom.<name>"): its `data` as given, and who
    published it (`by`: {"service": <key name>} or {"user": <staff user>})."""
    return frame(type_, data=data, by=by)


def reconnect(*, after_ms, reason):
    """This process is leaving (`relay.drain`): connect again, to another, in `after_ms`."""
    return frame("reconnect", after_ms=after_ms, reason=reason)


def announcement(item):
    """A notice from the operators (`moderation.models.Announcement`): to everyone, or to a group."""
    return frame("announcement", id=item.pk, message=item.message, level=item.level, groupid=item.group_id,
                 starts_at=iso(item.starts_at), ends_at=iso(item.ends_at) if item.ends_at else None)
