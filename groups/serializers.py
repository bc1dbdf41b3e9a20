"""Group and message serializers (REST input and output)."""

from rest_framework import serializers

from accounts.serializers import UserSerializer, user_dict
from config.fields import IdField, MessageTextField, StrictBooleanField, StrictCharField
from groups.models import Group, Role
from relay.stream.events import iso


def message_dict(msg):
    """A message as REST and the relay show it; `msg.sender` is loaded."""
    data = {"id": msg.pk, "from": user_dict(msg.sender), "message": msg.body, "created_at": iso(msg.created_at)}
    if msg.group_id is not None:
        data["groupid"] = msg.group_id
        mentioned = mention_ids(msg)
        if mentioned:
            data["mentions"] = mentioned
    else:
        data["to"] = msg.recipient_id
    if msg.edited_at is not None:
        data["edited_at"] = iso(msg.edited_at)
    return data


def mention_ids(msg):
    """The ids of the members a group message mentions: set when it was sent (`mentioned`), or
    prefetched with it (`mention_rows`, `groups.selectors`); [] when neither."""
    if hasattr(msg, "mention_rows"):
        return sorted(m.user_id for m in msg.mention_rows)
    return getattr(msg, "mentioned", [])


class MessageOutSerializer(serializers.Serializer):
    """Documentation of `message_dict` for the OpenAPI schema."""

    id = serializers.IntegerField()
    message = serializers.CharField()
    groupid = serializers.IntegerField(required=False)
    to = serializers.IntegerField(required=False)
    mentions = serializers.ListField(child=serializers.IntegerField(), required=False,
                                     help_text="the members a group message mentions (`@username`), if any")
    created_at = serializers.DateTimeField()
    edited_at = serializers.DateTimeField(required=False, help_text="when its author last edited it, if ever")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = UserSerializer()
        return fields

    def to_representation(self, instance):
        return message_dict(instance)


class GroupSerializer(serializers.ModelSerializer):
    owner = UserSerializer(read_only=True)
    members_count = serializers.IntegerField(read_only=True)
    my_role = serializers.CharField(read_only=True, allow_null=True)
    name = StrictCharField(max_length=100)
    description = StrictCharField(max_length=2000, required=False, allow_blank=True, default="")
    is_private = StrictBooleanField(required=False, default=False)

    class Meta:
        model = Group
        fields = ["id", "name", "description", "is_private", "owner", "members_count", "my_role", "created_at"]
        read_only_fields = ["id", "owner", "members_count", "my_role", "created_at"]

    def validate_name(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("Must not be blank.")
        return value


class GroupEditSerializer(GroupSerializer):
    """PATCH body of a group: every field optional (documentation; the view validates partially)."""

    name = StrictCharField(max_length=100, required=False)


class MemberSerializer(serializers.Serializer):
    user = UserSerializer()
    role = serializers.ChoiceField(choices=Role.choices)
    joined_at = serializers.DateTimeField()
    online = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True, help_text=(
        "when their last socket closed; the present moment while they are online"))


class UserIdSerializer(serializers.Serializer):
    user_id = IdField()


class KickSerializer(UserIdSerializer):
    ban = StrictBooleanField(required=False, default=False)


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=[Role.ADMIN, Role.MEMBER])


class SendMessageSerializer(serializers.Serializer):
    message = MessageTextField()


class DirectMessageSerializer(SendMessageSerializer):
    to = IdField()


class MembershipResultSerializer(serializers.Serializer):
    groupid = serializers.IntegerField()
    changed = serializers.BooleanField(help_text="false when nothing changed (and nothing was relayed)")


class MemberAddedSerializer(MembershipResultSerializer):
    userid = serializers.IntegerField()


class KickResultSerializer(MemberAddedSerializer):
    ban = serializers.BooleanField()


# --- conversations ------------------------------------------------------------------------------
class ConversationReadSerializer(serializers.Serializer):
    """Where a conversation was read up to: `groupid` or `to`, and a message of it."""

    groupid = IdField(required=False)
    to = IdField(required=False, help_text="the other user (direct)")
    message_id = IdField()

    def validate(self, attrs):
        if ("to" in attrs) == ("groupid" in attrs):
            raise serializers.ValidationError({"to": ["Give exactly one of `to` or `groupid`."]})
        return attrs


class UnreadStateSerializer(serializers.Serializer):
    """The answer to a read: what is left unread, and where the marker now is."""

    groupid = serializers.IntegerField(required=False)
    unread_count = serializers.IntegerField()
    mention_count = serializers.IntegerField()
    message_id = serializers.IntegerField(help_text="the read marker: the newest message read")
    changed = serializers.BooleanField(help_text="false when the marker was already there or beyond")

    def get_fields(self):
        fields = super().get_fields()
        fields["with"] = serializers.IntegerField(required=False, help_text="the other user (direct)")
        return fields


class MessageReadSerializer(serializers.Serializer):
    """A member who has read up to a message."""

    user = UserSerializer()
    at = serializers.DateTimeField(help_text="when their read marker last moved")


class ConversationGroupSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    is_private = serializers.BooleanField()


class ConversationSerializer(serializers.Serializer):
    """One row of `GET /api/conversations/` (documentation of `conversation_dict`)."""

    kind = serializers.ChoiceField(choices=["group", "direct"])
    group = ConversationGroupSerializer(required=False)
    user = UserSerializer(required=False, help_text="the other user (direct)")
    last_message = MessageOutSerializer(allow_null=True)
    last_read_message_id = serializers.IntegerField()
    unread_count = serializers.IntegerField()
    mention_count = serializers.IntegerField()


def conversation_dict(item):
    """A row of `groups.selectors.describe_conversations` as the API shows it."""
    data = dict(item)
    if "user" in data:
        data["user"] = user_dict(data["user"])
    if data["last_message"] is not None:
        data["last_message"] = message_dict(data["last_message"])
    return data


class PresenceSerializer(serializers.Serializer):
    user = serializers.IntegerField()
    online = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True, help_text=(
        "when their last socket closed (null: never connected); the present moment while they are online"))
