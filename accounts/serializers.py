"""Account serializers: the public user shape and the auth request bodies."""

from django.contrib.auth import password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q
from rest_framework import serializers

from accounts import usernames
from accounts.models import User
from config.fields import StrictBooleanField, StrictCharField, StrictEmailField
from relay.stream.events import user_shape


class UserSerializer(serializers.ModelSerializer):
    """A user as every client sees one."""

    class Meta:
        model = User
        fields = ["id", "username", "display_name"]
        read_only_fields = fields


user_dict = user_shape  # the SPEC user shape without a serializer round trip (hot paths)


class RegisterSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150, validators=[UnicodeUsernameValidator()])
    password = StrictCharField(max_length=128, write_only=True, trim_whitespace=False)
    # 254 is the model column: a longer address would fail in the database (PostgreSQL), not here.
    email = StrictEmailField(max_length=254, required=False, allow_blank=True, default="")
    display_name = StrictCharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_username(self, value):
        if usernames.mixes_look_alike_scripts(value):
            raise serializers.ValidationError(
                "Use the letters of one script: this name mixes in a letter that imitates another script's.")
        if User.objects.filter(Q(username__iexact=value) | Q(username_skeleton=usernames.skeleton(value))).exists():
            raise serializers.ValidationError("A user with that username, or one that looks like it, already exists.")
        return value

    def validate(self, attrs):
        candidate = User(username=attrs["username"], email=attrs.get("email", ""),
                         display_name=attrs.get("display_name", ""))
        try:
            password_validation.validate_password(attrs["password"], candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from exc
        return attrs


class LoginSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = StrictCharField(max_length=128, trim_whitespace=False)


class RefreshSerializer(serializers.Serializer):
    refresh = StrictCharField(max_length=4096)


class SocketConfigSerializer(serializers.Serializer):
    host = serializers.CharField(help_text="host[:port]/ws/ to open the WebSocket on")
    id = serializers.CharField(help_text="one-time ticket")
    expires_in = serializers.IntegerField()


class LoginResultSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    user = UserSerializer()
    socket = SocketConfigSerializer()


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class IsUserSerializer(serializers.Serializer):
    user = UserSerializer()
    socket = SocketConfigSerializer()


class RegisterResultSerializer(serializers.Serializer):
    user = UserSerializer()


class SettingsSerializer(serializers.Serializer):
    """The caller's own settings."""

    read_receipts = StrictBooleanField(required=False, help_text=(
        "others are told how far you have read (the `read` frame, a group message's reads); default true"))
