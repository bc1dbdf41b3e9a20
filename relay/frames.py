"""Frame schemas: one serializer per client frame type and per server frame type.

These serializers validate incoming frames (`relay.handlers.DISPATCH` maps each
type to one) and generate the AsyncAPI document (`relay.asyncapi`), so the
protocol catalogue cannot drift from what the server accepts and sends.
"""

import threading

from rest_framework import serializers

from config.fields import MAX_ID, IdField, MessageTextField, StrictBooleanField, StrictCharField

__all__ = ["MAX_ID", "IdField"]  # re-exported: REST serializers import ids from here too


_validators = threading.local()


def validate(serializer_class, data):
    """(validated data, None) or (None, errors) for a client frame.

    The same rules and error details as `serializer_class(data=data).is_valid()`,
    without its cost per frame: a new serializer deep-copies all its fields, which
    was the largest item in a profile of a busy socket. One instance per class
    (per thread) runs `run_validation`, which keeps no state between calls.
    """
    instances = getattr(_validators, "instances", None)
    if instances is None:
        instances = _validators.instances = {}
    serializer = instances.get(serializer_class)
    if serializer is None:
        serializer = instances[serializer_class] = serializer_class()
    try:
        return serializer.run_validation(data), None
    except serializers.ValidationError as exc:
        return None, exc.detail


class ClientFrame(serializers.Serializer):
    """Fields every client frame may carry besides identifier and type."""

    ref = StrictCharField(max_length=64, required=False, allow_blank=True,
                          help_text="echoed in the ack or error that answers this frame")


class EmptyFrame(ClientFrame):
    pass


class AuthFrame(ClientFrame):
    token = StrictCharField(max_length=4096, help_text="an access JWT or a one-time ticket")


class ChannelFrame(ClientFrame):
    channel = serializers.RegexField(r"^(post|group):[1-9][0-9]{0,18}$", max_length=32,
                                     help_text='"post:<id>" or "group:<id>"')


class PostLikeFrame(ClientFrame):
    postid = IdField()
    liked = StrictBooleanField(default=True)


class MessageFrame(ClientFrame):
    message = MessageTextField()
    to = IdField(required=False, help_text="a user id (direct message)")
    groupid = IdField(required=False, help_text="a group id (group message)")

    def validate(self, attrs):
        if ("to" in attrs) == ("groupid" in attrs):
            raise serializers.ValidationError({"to": ["Give exactly one of `to` or `groupid`."]})
        return attrs


class TypingFrame(ClientFrame):
    to = IdField(required=False)
    groupid = IdField(required=False)

    validate = MessageFrame.validate


class GroupFrame(ClientFrame):
    groupid = IdField()


class KickFrame(ClientFrame):
    groupid = IdField()
    userid = IdField()
    ban = StrictBooleanField(default=False)


# --- server frames (documentation and the drift test) ------------------------------------------
class UserShape(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()


class ConnectionOut(serializers.Serializer):
    client_id = serializers.CharField()
    user = UserShape(allow_null=True)
    groups = serializers.ListField(child=serializers.IntegerField())
    ref = serializers.CharField(required=False)


class RefOnly(serializers.Serializer):
    ref = serializers.CharField(required=False)


class AckOut(serializers.Serializer):
    ref = serializers.CharField(required=False)
    id = serializers.IntegerField(required=False, help_text="the new object's id (sendmessage)")


class ErrorOut(serializers.Serializer):
    code = serializers.ChoiceField(choices=[
        "invalid_json", "invalid_identifier", "unknown_type", "invalid_frame", "forbidden",
        "unauthorized", "not_found", "conflict", "rate_limited", "server_error",
    ])
    message = serializers.CharField()
    ref = serializers.CharField(required=False)
    details = serializers.DictField(required=False)


class MessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    to = serializers.IntegerField(required=False, help_text="the recipient's user id (direct)")
    groupid = serializers.IntegerField(required=False)
    message = serializers.CharField()
    created_at = serializers.DateTimeField()

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


class DeleteMessageOut(serializers.Serializer):
    id = serializers.IntegerField()
    groupid = serializers.IntegerField(required=False)


class ResyncOut(serializers.Serializer):
    reason = serializers.CharField(help_text="events may have been missed: reconnect with `since=`")


SERVER_FRAMES = {
    "connection": (ConnectionOut, "first frame on every socket, and the answer to `connection`"),
    "pong": (RefOnly, "answers `ping`"),
    "ping": (RefOnly, "sent by the server; clients may answer `pong`"),
    "ack": (AckOut, "answers a successful frame that carried `ref`, with its result"),
    "error": (ErrorOut, "answers a frame that failed"),
    "sendmessage": (MessageOut, "a direct or group message"),
    "postlike": (PostLikeOut, "a like count changed"),
    "postdelete": (PostDeleteOut, "a post was deleted"),
    "join": (MembershipOut, "someone joined a group"),
    "leave": (MembershipOut, "someone left a group"),
    "kick": (KickOut, "someone was removed from a group"),
    "typing": (TypingOut, "someone is typing"),
    "friendrequest": (FriendRequestOut, "someone sent you a friend request"),
    "notification": (NotificationOut, "a stored notification for you"),
    "deletemessage": (DeleteMessageOut, "a moderator deleted a message"),
    "resync": (ResyncOut, "events may have been missed; reconnect with since="),
}
