"""The publish API (`POST /api/publish/`): other services push their own events to sockets.

A staff user's JWT or an API key (`accounts.apikeys`) may publish a `custom.<name>` event to
users, to the members of groups or to the subscribers of public channels, within the key's
scopes. The event is an entry of the numbered stream like any other (replayed on resume, in
`GET /api/events/`), relayed after commit; built-in types can never be spoofed, since a
published type always starts with `custom.`.
"""

import orjson
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.apikeys import ApiKeyAuthentication, allows
from accounts.models import ApiKey
from accounts.throttles import FailOpen
from config.errors import Forbidden, PayloadTooLarge
from groups.selectors import groups_and_members
from posts.selectors import can_see_post
from relay.stream import events, publish
from relay.stream.events import CUSTOM_PREFIX

CHANNEL = r"^(feed|groups|post:[1-9][0-9]{0,18}|custom:[a-z0-9][a-z0-9_-]{0,47})$"
TARGETS = {"users": 1000, "groups": 100, "channels": 100}  # at most this many of each in one publish


class PublishSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                  min_length=1, max_length=TARGETS["users"], help_text="user ids")
    groups = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False,
                                   min_length=1, max_length=TARGETS["groups"], help_text="group ids: to their members")
    channels = serializers.ListField(child=serializers.RegexField(CHANNEL, max_length=64), required=False,
                                     min_length=1, max_length=TARGETS["channels"], help_text=(
                                         'public channels: "feed", "groups", "post:<id>" (a public post) or '
                                         '"custom:<name>", which any socket may subscribe to'))
    type = serializers.RegexField(r"^custom\.[a-z0-9][a-z0-9_.-]{0,63}$", max_length=71, help_text=(
        '"custom.<name>": lower-case letters, digits, "_", "-" and "."'))
    data = serializers.DictField(help_text="any JSON object, at most PUBLISH_MAX_BYTES bytes")

    def validate(self, attrs):
        given = [kind for kind in TARGETS if kind in attrs]
        if len(given) != 1:
            raise serializers.ValidationError({"non_field_errors": ["Give exactly one of users, groups or channels."]})
        return attrs


class StaffOrApiKey(BasePermission):
    message = "Publishing takes a staff user's token or an API key."

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiKey) or bool(request.user and request.user.is_staff)


class PublishThrottle(FailOpen, SimpleRateThrottle):
    """Publishes per API key (its own `rate`, or PUBLISH_RATE), and per staff user."""

    scope = "publish"

    def get_rate(self):
        return settings.PUBLISH_RATE

    def allow_request(self, request, view):
        key = request.auth if isinstance(request.auth, ApiKey) else None
        if key is not None and key.rate:
            self.rate = key.rate
            self.num_requests, self.duration = self.parse_rate(key.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        key = request.auth if isinstance(request.auth, ApiKey) else None
        ident = f"key{key.pk}" if key is not None else f"user{request.user.pk}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def publish_event(*, type_, data, by, key=None, users=(), groups=(), channels=()):
    """Publish one `custom.*` event (checked against `key`'s scopes when given); returns
    {"recipients": n, "unknown": [...]} (users: active users found; groups: their members;
    channels: how many channels, whose subscribers are not counted)."""
    assert type_.startswith(CUSTOM_PREFIX)
    kind, names = next((k, v) for k, v in (("users", users), ("groups", groups), ("channels", channels)) if v)
    if key is not None:
        scoped = {"groups": lambda g: f"group:{g}", "channels": lambda c: f"channel:{c}"}.get(kind)
        refused = [n for n in names if not allows(key, kind, scoped(n) if scoped else None)]
        if refused:
            raise Forbidden(f"This API key may not publish to these {kind}.", details={kind: refused})
    names = list(dict.fromkeys(names))
    if kind == "users":
        found = set(get_user_model().objects.filter(pk__in=names, is_active=True).values_list("pk", flat=True))
        recipients = len(found)
    elif kind == "groups":
        found, recipients = groups_and_members(names)
    else:
        found = {c for c in names if not c.startswith("post:") or can_see_post(None, int(c[5:]))}
        recipients = len(found)
    unknown = [n for n in names if n not in found]
    targets = [n for n in names if n in found]
    if targets:
        with transaction.atomic():
            publish.emit(events.custom(type_, data, by=by), **{kind: targets})
    return {"recipients": recipients, "unknown": unknown}


class PublishView(APIView):
    """Publish a `custom.<name>` event to users, groups' members or public channels: for staff
    users' tokens and API keys (`Authorization: Api-Key <key>`, issued in the admin)."""

    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [StaffOrApiKey]
    throttle_classes = [PublishThrottle]

    @extend_schema(request=PublishSerializer, responses=inline_serializer("Published", {
        "relayed": serializers.BooleanField(help_text="false: stored, but the relay could not be reached now "
                                                      "(sockets read it back from the stream)"),
        "recipients": serializers.IntegerField(help_text=(
            "users found, or the groups' members, or (channels) how many channels")),
        "unknown": serializers.ListField(help_text="targets that do not exist (or posts that are not public)"),
    }))
    def post(self, request):
        serializer = PublishSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if len(orjson.dumps(data["data"])) > settings.PUBLISH_MAX_BYTES:
            raise PayloadTooLarge(f"`data` takes at most {settings.PUBLISH_MAX_BYTES} bytes of JSON.")
        key = request.auth if isinstance(request.auth, ApiKey) else None
        by = {"service": key.name} if key is not None else {"user": events.user_shape(request.user)}
        result = publish_event(type_=data["type"], data=data["data"], by=by, key=key,
                               **{kind: data[kind] for kind in TARGETS if kind in data})
        failed = publish.send_now(publish.take())
        return Response({"relayed": not failed, **result})

