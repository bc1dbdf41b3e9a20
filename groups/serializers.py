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
    else:
        data["to"] = msg.recipient_id
    return data


class MessageOutSerializer(serializers.Serializer):
    """Documentation of `message_dict` for the OpenAPI schema."""

    id = serializers.IntegerField()
    message = serializers.CharField()
    groupid = serializers.IntegerField(required=False)
    to = serializers.IntegerField(required=False)
    created_at = serializers.DateTimeField()

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
