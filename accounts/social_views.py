"""Friends and notifications (SPEC §5)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from accounts import actions, selectors
from accounts.models import Block, FriendRequest, Mute, Notification
from accounts.serializers import UserSerializer, user_dict
from config.errors import ValidationFailed
from config.fields import IdField, StrictBooleanField
from config.rest.params import flag_param
from relay.stream.presence import shown


class ToSerializer(serializers.Serializer):
    to = IdField()


class FriendRequestSerializer(serializers.ModelSerializer):
    from_user = UserSerializer(read_only=True)
    to_user = UserSerializer(read_only=True)

    class Meta:
        model = FriendRequest
        fields = ["id", "from_user", "to_user", "status", "created_at", "responded_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["from"] = data["from_user"]
        data["to"] = data["to_user"]
        return data


class FriendSerializer(serializers.Serializer):
    user = UserSerializer()
    since = serializers.DateTimeField()
    online = serializers.BooleanField()
    last_seen = serializers.DateTimeField(allow_null=True, help_text=(
        "when their last socket closed; the present moment while they are online"))


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "kind", "message", "data", "read", "created_at"]


class ReadSerializer(serializers.Serializer):
    ids = serializers.ListField(child=IdField(), required=False, max_length=1000)
    all = StrictBooleanField(required=False, default=False)

    def validate(self, attrs):
        if not attrs.get("all") and not attrs.get("ids"):
            raise serializers.ValidationError({"ids": ["Give `ids` (a list) or `all: true`."]})
        return attrs


class FriendRequestsView(GenericAPIView):
    """Send a friend request; list your pending requests (`?direction=incoming|outgoing`)."""

    serializer_class = FriendRequestSerializer

    @extend_schema(parameters=[OpenApiParameter("direction", str, enum=["incoming", "outgoing"])],
                   responses=FriendRequestSerializer(many=True))
    def get(self, request):
        direction = request.query_params.get("direction", "incoming")
        if direction not in ("incoming", "outgoing"):
            raise ValidationFailed(details={"direction": ["Must be `incoming` or `outgoing`."]})
        page = self.paginate_queryset(selectors.pending_friend_requests(request.user,
                                                                        incoming=direction == "incoming"))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=ToSerializer, responses={201: FriendRequestSerializer, 200: FriendRequestSerializer})
    def post(self, request):
        data = ToSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = selectors.active_user(data.validated_data["to"])
        friend_request, created = actions.send_friend_request(actor=request.user, target=target)
        return Response(self.get_serializer(friend_request).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class FriendRequestAnswerView(GenericAPIView):
    serializer_class = FriendRequestSerializer
    accept = True

    @extend_schema(request=None)
    def post(self, request, pk):
        friend_request = selectors.friend_request_of(request.user, pk)
        answered = actions.respond_to_friend_request(actor=request.user, request=friend_request, accept=self.accept)
        return Response(self.get_serializer(answered).data)


class FriendsView(GenericAPIView):
    serializer_class = FriendSerializer

    @extend_schema(responses=FriendSerializer(many=True))
    def get(self, request):
        me = request.user
        page = self.paginate_queryset(selectors.friendships(me))
        friends = [(r.to_user if r.from_user_id == me.pk else r.from_user, r.responded_at or r.created_at)
                   for r in page]
        seen = shown(u for u, _ in friends)
        rows = [{"user": user_dict(u), "since": since, "online": seen[u.pk][0], "last_seen": seen[u.pk][1]}
                for u, since in friends]
        return self.get_paginated_response(FriendSerializer(rows, many=True).data)


class FriendView(GenericAPIView):
    """`DELETE`: end the friendship with this user (either of you may); both get `unfriend`."""

    @extend_schema(request=None, responses={200: inline_serializer("UnfriendResult", {
        "user_id": serializers.IntegerField(), "changed": serializers.BooleanField(help_text="false: not friends")})})
    def delete(self, request, user_id):
        changed = actions.unfriend(actor=request.user, target=selectors.any_user(user_id))
        return Response({"user_id": user_id, "changed": changed})


class NotificationsView(GenericAPIView):
    serializer_class = NotificationSerializer

    @extend_schema(parameters=[OpenApiParameter("unread", bool)], responses=NotificationSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.notifications(request.user, unread_only=flag_param(request, "unread")))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


class NotificationsReadView(GenericAPIView):
    serializer_class = ReadSerializer

    @extend_schema(request=ReadSerializer,
                   responses={200: inline_serializer("ReadResult", {"updated": serializers.IntegerField()})})
    def post(self, request):
        data = ReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        updated = actions.mark_notifications_read(actor=request.user, ids=data.validated_data.get("ids"),
                                                  all_=data.validated_data["all"])
        return Response({"updated": updated})


# --- blocks and mutes ------------------------------------------------------------------------------
class UserTargetSerializer(serializers.Serializer):
    user_id = IdField()


class MuteInSerializer(UserTargetSerializer):
    expires_in = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=366 * 86400,
                                          help_text="seconds until the mute ends by itself; none: until unmuted")


class BlockSerializer(serializers.ModelSerializer):
    user = UserSerializer(source="blocked", read_only=True)

    class Meta:
        model = Block
        fields = ["user", "created_at"]


class MuteSerializer(serializers.ModelSerializer):
    user = UserSerializer(source="muted", read_only=True)

    class Meta:
        model = Mute
        fields = ["user", "expires_at", "created_at"]


_Undone = inline_serializer("Undone", {"user_id": serializers.IntegerField(),
                                       "changed": serializers.BooleanField(help_text="false: there was none")})


class BlocksView(GenericAPIView):
    """Block a user (`user_id`): no direct messages or friend requests either way, no typing,
    presence or likes relayed between you, each out of the other's feed, and their messages in
    shared groups marked `from_blocked`. They are never told. Your other sockets get `block`."""

    serializer_class = BlockSerializer

    @extend_schema(responses=BlockSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.blocks(request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=UserTargetSerializer, responses={201: BlockSerializer, 200: BlockSerializer})
    def post(self, request):
        data = UserTargetSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        row, created = actions.block(actor=request.user, target=selectors.active_user(data.validated_data["user_id"]))
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class BlockView(GenericAPIView):
    @extend_schema(request=None, responses={200: _Undone})
    def delete(self, request, user_id):
        changed = actions.unblock(actor=request.user, target=selectors.any_user(user_id))
        return Response({"user_id": user_id, "changed": changed})


class MutesView(GenericAPIView):
    """Mute a user (`user_id`, optional `expires_in` seconds): no notifications and no unread
    counts from them, and their messages marked `muted`. Muting again sets the new end. Your other
    sockets get `mute`."""

    serializer_class = MuteSerializer

    @extend_schema(responses=MuteSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(selectors.mutes(request.user))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=MuteInSerializer, responses={201: MuteSerializer, 200: MuteSerializer})
    def post(self, request):
        data = MuteInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        target = selectors.active_user(data.validated_data["user_id"])
        row, created = actions.mute(actor=request.user, target=target, expires_in=data.validated_data.get("expires_in"))
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class MuteView(GenericAPIView):
    @extend_schema(request=None, responses={200: _Undone})
    def delete(self, request, user_id):
        changed = actions.unmute(actor=request.user, target=selectors.any_user(user_id))
        return Response({"user_id": user_id, "changed": changed})
