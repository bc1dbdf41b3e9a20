"""The catalogue of server frames: one serializer per frame type the server sends, with a
line on what it is (the AsyncAPI document, `relay.asyncapi`, is generated from it, and
a test holds it against every type `relay.stream.events` builds)."""

from rest_framework import serializers


class UserShape(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()


class ConnectionOut(serializers.Serializer):
    client_id = serializers.CharField()
    user = UserShape(allow_null=True)
    groups = serializers.ListField(child=serializers.IntegerField())
    ref = serializers.CharField(required=False)
    seq = serializers.IntegerField(required=False, help_text=(
        "first frame only: the stream position this socket starts at (reconnect with `resume=` the newest "
        "`seq` seen, or this one)"))
    streams = serializers.DictField(child=serializers.IntegerField(), required=False, help_text=(
        "first frame only: the offset of each of the user's streams (`user:<id>`, `group:<id>`) at `seq`"))


class RefOnly(serializers.Serializer):
    ref = serializers.CharField(required=False)


class AckOut(serializers.Serializer):
    ref = serializers.CharField(required=False)
    id = serializers.IntegerField(required=False, help_text="the new object's id (sendmessage)")


class ErrorOut(serializers.Serializer):
    code = serializers.ChoiceField(choices=[
        "invalid_json", "invalid_identifier", "unknown_type", "invalid_frame", "forbidden",
        "unauthorized", "not_found", "conflict", "rate_limited", "too_many_subscriptions", "server_error",
    ])
    message = serializers.CharField()
    ref = serializers.CharField(required=False)
    details = serializers.DictField(required=False)


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    to = serializers.IntegerField(required=False, help_text="the recipient's user id (direct)")
    groupid = serializers.IntegerField(required=False)
    message = serializers.CharField()
    mentions = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     help_text="the members a group message mentions (`@username`), if any")
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(required=False, help_text="when its author last edited it (REST only: "
                                          "a live message is new; `editmessage` frames carry it)")
    from_blocked = serializers.BooleanField(required=False, help_text=(
        "to you only: its sender is someone you block (a shared group's message), for folding"))
    muted = serializers.BooleanField(required=False, help_text="to you only: its sender is someone you mute")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = UserShape()  # `from` is a Python keyword
        return fields


class PostLikeOut(serializers.Serializer):
    postid = serializers.IntegerField()
    userid = serializers.IntegerField()
    liked = serializers.BooleanField()
    likes_count = serializers.IntegerField()


class PostDeleteOut(serializers.Serializer):
    postid = serializers.IntegerField()
    groupid = serializers.IntegerField(allow_null=True)


class MembershipOut(serializers.Serializer):
    groupid = serializers.IntegerField()
    user = UserShape()


class KickOut(MembershipOut):
    by = UserShape()
    ban = serializers.BooleanField()


class TypingOut(serializers.Serializer):
    to = serializers.IntegerField(required=False)
    groupid = serializers.IntegerField(required=False)

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = UserShape()
        return fields


class FriendRequestOut(serializers.Serializer):
    id = serializers.IntegerField()

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = UserShape()
        return fields


class NotificationOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    message = serializers.CharField()
    data = serializers.DictField()


class EditMessageOut(MessageOut):
    edited_at = serializers.DateTimeField()


class DeleteMessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    groupid = serializers.IntegerField(required=False)
    by = UserShape(help_text="who deleted it: its author, a group owner or admin, or a moderator")


class _InConversation(serializers.Serializer):
    """A frame about one conversation: `groupid`, or `with` (a Python keyword, so added here)
    the other user of a direct one, as `with_help` says."""

    groupid = serializers.IntegerField(required=False)
    with_help = "the other user (direct)"

    def get_fields(self):
        fields = super().get_fields()
        fields["with"] = serializers.IntegerField(required=False, help_text=self.with_help)
        return fields


class UnreadOut(_InConversation):
    unread_count = serializers.IntegerField(help_text="messages from others after the reader's marker")
    mention_count = serializers.IntegerField()


class ReadOut(_InConversation):
    with_help = "the reader (direct)"
    user = UserShape(help_text="who read")
    message_id = serializers.IntegerField(help_text="the newest message they have read")
    at = serializers.DateTimeField()


class PresenceOut(serializers.Serializer):
    user = UserShape()
    online = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True, help_text=(
        "when they came online (online) or when their last socket closed (offline)"))


class ReactionOut(serializers.Serializer):
    messageid = serializers.IntegerField(required=False)
    groupid = serializers.IntegerField(required=False, help_text="a group message's group")
    to = serializers.IntegerField(required=False, help_text="a direct message's recipient")
    postid = serializers.IntegerField(required=False)
    user = UserShape(help_text="who reacted")
    emoji = serializers.CharField()
    on = serializers.BooleanField(help_text="false: the reaction was taken back")
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="the target's count per emoji now")


class PostCreateOut(serializers.Serializer):
    postid = serializers.IntegerField()
    groupid = serializers.IntegerField(allow_null=True)
    author = UserShape()
    content = serializers.CharField()
    created_at = serializers.DateTimeField()


class PostEditOut(serializers.Serializer):
    postid = serializers.IntegerField()
    groupid = serializers.IntegerField(allow_null=True)
    author = UserShape()
    content = serializers.CharField(help_text="the post's new text")
    edited_at = serializers.DateTimeField()


class GroupCreateOut(serializers.Serializer):
    groupid = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    owner = UserShape()
    members_count = serializers.IntegerField()


class GroupUpdateOut(serializers.Serializer):
    groupid = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    is_private = serializers.BooleanField()


class RoleOut(serializers.Serializer):
    groupid = serializers.IntegerField()
    user = UserShape(help_text="whose role changed")
    role = serializers.ChoiceField(choices=["admin", "member"])
    by = UserShape(help_text="the owner, who changed it")


class UnfriendOut(serializers.Serializer):
    by = UserShape(help_text="who ended the friendship")
    user = UserShape(help_text="the friend they ended it with")


class BlockOut(serializers.Serializer):
    user = UserShape(help_text="the user you blocked or unblocked")
    blocked = serializers.BooleanField()
    friendship_ended = serializers.BooleanField(help_text="blocking ended your friendship with them")


class MuteOut(serializers.Serializer):
    user = UserShape(help_text="the user you muted or unmuted")
    muted = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True, help_text="when the mute ends by itself; null: never")


class SkipOut(serializers.Serializer):
    seq = serializers.IntegerField()
    streams = serializers.DictField(child=serializers.IntegerField())


class ResyncOut(serializers.Serializer):
    reason = serializers.CharField(help_text=(
        "`retention`: the `resume=` position is older than the stream keeps; reload through REST"))
    message = serializers.CharField(required=False)
    seq = serializers.IntegerField(required=False, help_text="the position the socket goes on from")


class AnnouncementOut(serializers.Serializer):
    id = serializers.IntegerField()
    message = serializers.CharField()
    level = serializers.ChoiceField(choices=["info", "warning", "critical"])
    groupid = serializers.IntegerField(allow_null=True, help_text="null: to everyone")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)


class ReconnectOut(serializers.Serializer):
    after_ms = serializers.IntegerField(help_text="reconnect this many ms from now (each socket its own moment)")
    reason = serializers.CharField(help_text='"maintenance": the process is draining')


class CustomOut(serializers.Serializer):
    data = serializers.DictField(help_text="as the publisher sent it")
    by = serializers.DictField(help_text='who published it: {"service": "<API key name>"} or {"user": {id, username, '
                                         'display_name}} (staff)')


SERVER_FRAMES = {
    "connection": (ConnectionOut, "first frame on every socket, and the answer to `connection`"),
    "pong": (RefOnly, "answers `ping`"),
    "ping": (RefOnly, "sent by the server; clients may answer `pong`"),
    "ack": (AckOut, "answers a successful frame that carried `ref`, with its result"),
    "error": (ErrorOut, "answers a frame that failed"),
    "sendmessage": (MessageOut, "a direct or group message"),
    "postlike": (PostLikeOut, "a like count changed"),
    "postdelete": (PostDeleteOut, "a post was deleted"),
    "reaction": (ReactionOut, ("someone reacted to a message or a post, or took it back: to the message's audience "
                               "(as `sendmessage`) or the post's (as `postlike`), not between users one of whom "
                               "blocks the other")),
    "postcreate": (PostCreateOut, ("a new post: a group's to its members; a public one to its author's friends and to "
                                   "sockets subscribed to the `feed` channel (not to users blocking or blocked by the "
                                   "author: they get a `skip`)")),
    "postedit": (PostEditOut, "its author edited a post (to the audience of `postlike`)"),
    "groupcreate": (GroupCreateOut, ("a public group appeared, created or made public: to sockets subscribed to the "
                                      "`groups` channel (the directory of public groups)")),
    "groupupdate": (GroupUpdateOut, "a group's name, description or privacy changed (to its members)"),
    "role": (RoleOut, "a member's role in a group changed (to its members)"),
    "join": (MembershipOut, "someone joined a group"),
    "leave": (MembershipOut, "someone left a group"),
    "kick": (KickOut, "someone was removed from a group"),
    "typing": (TypingOut, "someone is typing"),
    "friendrequest": (FriendRequestOut, "someone sent you a friend request"),
    "notification": (NotificationOut, "a stored notification for you"),
    "unfriend": (UnfriendOut, "a friendship of yours ended (`DELETE /api/friends/{user_id}/`, by either of you)"),
    "editmessage": (EditMessageOut, "its author edited a message: its new text, to the message's audience"),
    "deletemessage": (DeleteMessageOut, "a message was deleted (by its author, a group owner or admin, or a moderator)"),
    "unread": (UnreadOut, "what is left unread in a conversation, after you read it on any device"),
    "read": (ReadOut, ("a read receipt: the other person of a direct conversation, or a member of a group "
                       "up to RELAY_READ_RECEIPTS_MAX_MEMBERS, has read up to `message_id`")),
    "presence": (PresenceOut, ("a friend, or a member of one of your groups up to RELAY_PRESENCE_MAX_MEMBERS (of a "
                               "larger one: while you subscribe to its `presence:<id>` channel), came online or "
                               "went offline (debounced: a quick reconnect says nothing)")),
    "block": (BlockOut, "you blocked or unblocked someone (`/api/blocks/`): to your own sockets only"),
    "mute": (MuteOut, "you muted or unmuted someone (`/api/mutes/`): to your own sockets only"),
    "skip": (SkipOut, ("an entry of your streams that is not for you (a like, between you and a user one of you "
                       "blocked): take its `seq` and `streams`, show nothing")),
    "resync": (ResyncOut, "the stream cannot take this socket from where it asked: reload through REST"),
    "announcement": (AnnouncementOut, ("a notice from the operators (the admin's Announcements): to every socket, "
                                       "anonymous ones too, or to a group's members; `GET /api/announcements/` "
                                       "lists those still shown")),
    "reconnect": (ReconnectOut, ("this process is leaving (a deploy): reconnect after `after_ms` with `resume=`; "
                                 "the socket is closed with 1012 then, and new ones are refused")),
    "custom.*": (CustomOut, ("an event another service published (`POST /api/publish/`), typed `custom.<name>` by it: "
                             "to the users, the groups' members or the channels' subscribers it named; stateful, as "
                             "every frame above it")),
}
