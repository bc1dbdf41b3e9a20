"""Group, membership and message endpoints (SPEC §3 and §5). Thin: actions hold the rules."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from accounts.selectors import any_user, marks_of
from accounts.serializers import user_dict
from accounts.throttles import SendThrottle
from config.errors import ValidationFailed
from config.rest.pagination import CursorPagination
from config.rest.params import flag_param, id_param, id_parameter
from groups import actions, messaging, presence, reading
from groups import serializers as s
from groups.models import MessageReaction
from groups.permissions import CanReadMessages, CanSeeMemberList
from groups.reactions import EmojiSerializer, MessageReactionResult, shown_on
from groups.selectors import (
    access_group,
    conversations,
    describe_conversations,
    direct_messages,
    group_list,
    group_members,
    group_messages,
    group_to_join,
    message_for,
    message_reads,
    visible_groups,
)
from relay.stream.events import iso
from relay.stream.variants import FROM_BLOCKED, MUTED


def _input(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class GroupViewSet(viewsets.GenericViewSet):
    """Groups: list, create, read, edit, delete, and the membership verbs."""

    serializer_class = s.GroupSerializer
    lookup_value_regex = r"[0-9]{1,18}"

    def get_queryset(self):
        return visible_groups(self.request.user)

    def get_group(self):
        group_id = self.kwargs["pk"]
        access_group(self.request.user, group_id)  # NotFound for hidden groups, as for missing ones
        group = get_object_or_404(self.get_queryset(), pk=group_id)
        self.check_object_permissions(self.request, group)
        return group

    @extend_schema(parameters=[OpenApiParameter("mine", bool), OpenApiParameter("q", str)])
    def list(self, request):
        q = request.query_params.get("q", "").strip()
        if "\x00" in q:  # PostgreSQL refuses NUL in text: a 400, not a 500
            raise ValidationFailed(details={"q": ["Must not contain NUL characters."]})
        page = self.paginate_queryset(group_list(request.user, mine=flag_param(request, "mine"), q=q))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request):
        data = _input(s.GroupSerializer, request)
        group = actions.create_group(actor=request.user, **data)
        return Response(self.get_serializer(self.get_queryset().get(pk=group.pk)).data,
                        status=status.HTTP_201_CREATED)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self.get_group()).data)

    @extend_schema(request=s.GroupEditSerializer)
    def partial_update(self, request, pk=None):
        group = self.get_group()
        serializer = s.GroupSerializer(group, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        actions.update_group(actor=request.user, group=group, **serializer.validated_data)
        return Response(self.get_serializer(self.get_group()).data)

    @extend_schema(responses={200: None})
    def destroy(self, request, pk=None):
        self.perform_destroy(self.get_group())
        return Response(None)

    def perform_destroy(self, group):
        actions.delete_group(actor=self.request.user, group=group)

    @extend_schema(request=None, responses=s.MembershipResultSerializer)
    @action(detail=True, methods=["post"])
    def join(self, request, pk=None):
        changed = actions.join_group(actor=request.user, group=group_to_join(pk))
        return Response({"groupid": int(pk), "changed": changed})

    @extend_schema(request=None, responses=s.MembershipResultSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request, pk=None):
        changed = actions.leave_group(actor=request.user, group=self.get_group())
        return Response({"groupid": int(pk), "changed": changed})

    @extend_schema(request=s.KickSerializer, responses=s.KickResultSerializer)
    @action(detail=True, methods=["post"])
    def kick(self, request, pk=None):
        group = self.get_group()
        data = _input(s.KickSerializer, request)
        changed = actions.kick_member(actor=request.user, group=group, target=any_user(data["user_id"]),
                                      ban=data["ban"])
        return Response({"groupid": group.pk, "userid": data["user_id"], "ban": data["ban"], "changed": changed})

    @extend_schema(methods=["get"], responses=s.MemberSerializer(many=True))
    @extend_schema(methods=["post"], request=s.UserIdSerializer,
                   responses={201: s.MemberAddedSerializer, 200: s.MemberAddedSerializer})
    @action(detail=True, methods=["get", "post"], permission_classes=[IsAuthenticated, CanSeeMemberList])
    def members(self, request, pk=None):
        group = self.get_group()
        if request.method == "POST":
            data = _input(s.UserIdSerializer, request)
            changed = actions.add_member(actor=request.user, group=group, target=any_user(data["user_id"]))
            return Response({"groupid": group.pk, "userid": data["user_id"], "changed": changed},
                            status=status.HTTP_201_CREATED if changed else status.HTTP_200_OK)
        page = self.paginate_queryset(group_members(group).order_by("-id"))
        seen = presence.shown_to(request.user.pk, (m.user for m in page))
        rows = [{"user": m.user, "role": m.role, "joined_at": m.joined_at, "online": seen[m.user_id][0],
                 "last_seen": seen[m.user_id][1]} for m in page]
        return self.get_paginated_response(s.MemberSerializer(rows, many=True).data)

    @extend_schema(request=s.RoleSerializer, responses=s.MemberSerializer)
    @action(detail=True, methods=["patch"], url_path=r"members/(?P<user_id>[0-9]{1,18})")
    def member(self, request, pk=None, user_id=None):
        group = self.get_group()
        data = _input(s.RoleSerializer, request)
        m = actions.set_role(actor=request.user, group=group, target=any_user(int(user_id)), role=data["role"])
        online, last_seen = presence.shown_to(request.user.pk, [m.user])[m.user_id]
        return Response(s.MemberSerializer({"user": m.user, "role": m.role, "joined_at": m.joined_at,
                                            "online": online, "last_seen": last_seen}).data)

    @extend_schema(responses=s.MessageReadSerializer(many=True))
    @action(detail=True, methods=["get"], url_path=r"messages/(?P<message_id>[0-9]{1,18})/reads",
            permission_classes=[IsAuthenticated, CanReadMessages])
    def reads(self, request, pk=None, message_id=None):
        """Who of the members has read up to this message (those who share read receipts)."""
        return _reads_of(self, request, pk, int(message_id))

    @extend_schema(methods=["get"], parameters=[id_parameter("before")],
                   responses=s.MessageOutSerializer(many=True))
    @extend_schema(methods=["post"], request=s.SendMessageSerializer, responses={201: s.MessageOutSerializer})
    @action(detail=True, methods=["get", "post"], permission_classes=[IsAuthenticated, CanReadMessages],
            throttle_classes=[SendThrottle])
    def messages(self, request, pk=None):
        group = self.get_group()
        if request.method == "POST":
            data = _input(s.SendMessageSerializer, request)
            msg = messaging.send_message(actor=request.user, body=data["message"], group_id=group.pk)
            return Response(s.message_dict(msg), status=status.HTTP_201_CREATED)
        return _message_page(self, group_messages(group, before=id_param(request, "before")))


def _reads_of(view, request, pk, message_id):
    group = view.get_group()
    page = view.paginate_queryset(message_reads(group, message_id))
    return view.get_paginated_response([{"user": user_dict(m.user), "at": iso(m.updated_at)} for m in page])


def _message_page(view, qs):
    """A page of messages with their reactions, those of users the caller blocks or mutes marked
    as they are live (`from_blocked`, `muted`)."""
    page = view.paginate_queryset(qs)
    rows = shown_on([s.message_dict(m) for m in page], MessageReaction, view.request.user)
    marks = marks_of(view.request.user.pk) if rows else {}
    for row in rows:
        kind = marks.get(row["from"]["id"], "")
        if FROM_BLOCKED in kind:
            row["from_blocked"] = True
        if MUTED in kind:
            row["muted"] = True
    return view.get_paginated_response(rows)


class DirectMessagesView(GenericAPIView):
    """Direct messages: the conversation with one user, and sending."""

    serializer_class = s.DirectMessageSerializer  # what OPTIONS describes for POST
    throttle_classes = [SendThrottle]

    @extend_schema(parameters=[id_parameter("with", required=True), id_parameter("before")],
                   responses=s.MessageOutSerializer(many=True))
    def get(self, request):
        other = id_param(request, "with", required=True)
        return _message_page(self, direct_messages(request.user.pk, other, before=id_param(request, "before")))

    @extend_schema(request=s.DirectMessageSerializer, responses={201: s.MessageOutSerializer})
    def post(self, request):
        data = _input(s.DirectMessageSerializer, request)
        msg = messaging.send_message(actor=request.user, body=data["message"], to_id=data["to"])
        return Response(s.message_dict(msg), status=status.HTTP_201_CREATED)


class MessageView(GenericAPIView):
    """One message: its author edits its text; its author, or an owner or admin of its group,
    deletes it (staff through the desk: `moderation.views`)."""

    serializer_class = s.SendMessageSerializer
    throttle_classes = [SendThrottle]

    @extend_schema(request=s.SendMessageSerializer, responses=s.MessageOutSerializer)
    def patch(self, request, pk):
        data = _input(s.SendMessageSerializer, request)
        messaging.edit_message(actor=request.user, message=message_for(request.user, pk), body=data["message"])
        return Response(s.message_dict(message_for(request.user, pk)))

    @extend_schema(request=None, responses={200: None})
    def delete(self, request, pk):
        self.perform_destroy(message_for(request.user, pk))
        return Response(None)

    def perform_destroy(self, message):
        messaging.remove_message(actor=self.request.user, message=message)


class ConversationsView(GenericAPIView):
    """The caller's groups and direct conversations, newest activity first, with what is unread."""

    serializer_class = s.ConversationSerializer

    @extend_schema(parameters=[OpenApiParameter("cursor", str), OpenApiParameter("limit", int)],
                   responses=s.ConversationSerializer(many=True))
    def get(self, request):
        limit = CursorPagination().get_page_size(request)
        after = _conversation_cursor(request)
        rows = conversations(request.user, after=after, limit=limit + 1)
        page, more = rows[:limit], len(rows) > limit
        next_link = None
        if more:
            kind, target, activity = page[-1]
            next_link = replace_query_param(request.build_absolute_uri(), "cursor", f"{activity}.{kind}.{target}")
        results = [s.conversation_dict(item) for item in describe_conversations(request.user, page)]
        return Response({"results": results, "next": next_link, "previous": None})


def _conversation_cursor(request):
    raw = request.query_params.get("cursor")
    if raw is None:
        return None
    parts = raw.split(".")
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        raise ValidationFailed(details={"cursor": ["Invalid cursor."]})
    return tuple(int(p) for p in parts)


class ReadView(GenericAPIView):
    """Mark a conversation read up to a message: the reader's other devices get `unread`."""

    serializer_class = s.ConversationReadSerializer

    @extend_schema(request=s.ConversationReadSerializer, responses=s.UnreadStateSerializer)
    def post(self, request):
        data = _input(s.ConversationReadSerializer, request)
        return Response(reading.mark_read(actor=request.user, message_id=data["message_id"],
                                          group_id=data.get("groupid"), to_id=data.get("to")))


MAX_PRESENCE_IDS = 100


class PresenceView(GenericAPIView):
    """Who of `ids` is online, and when each was last seen: only the caller, their friends and
    the members of their groups; other ids are left out."""

    serializer_class = s.PresenceSerializer

    @extend_schema(parameters=[OpenApiParameter("ids", str, required=True,
                                                description=f"comma-separated user ids, at most {MAX_PRESENCE_IDS}")],
                   responses=s.PresenceSerializer(many=True))
    def get(self, request):
        ids = _presence_ids(request.query_params.get("ids", ""))
        shown = presence.visible(request.user.pk, ids)
        rows = presence.states(sorted(shown))
        return Response({"results": s.PresenceSerializer(
            [{"user": uid, **row} for uid, row in rows.items()], many=True).data})


def _presence_ids(raw):
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if not parts:
        raise ValidationFailed(details={"ids": ["Give one or more user ids, comma-separated."]})
    if len(parts) > MAX_PRESENCE_IDS:
        raise ValidationFailed(details={"ids": [f"At most {MAX_PRESENCE_IDS} ids."]})
    if not all(p.isascii() and p.isdigit() and len(p) <= 18 for p in parts):
        raise ValidationFailed(details={"ids": ["Each id is a positive whole number."]})
    return list(dict.fromkeys(int(p) for p in parts))


class MessageReactionsView(GenericAPIView):
    """React to a message you can see with an emoji (REACTION_EMOJI): its audience gets `reaction`
    with the counts. Idempotent: 201 when added, 200 when it was already there."""

    serializer_class = EmojiSerializer

    @extend_schema(request=EmojiSerializer, responses={201: MessageReactionResult, 200: MessageReactionResult})
    def post(self, request, pk):
        data = _input(EmojiSerializer, request)
        result = messaging.react_to_message(actor=request.user, message_id=pk, emoji=data["emoji"])
        return Response(result, status=status.HTTP_201_CREATED if result["changed"] else status.HTTP_200_OK)


class MessageReactionView(GenericAPIView):
    """Take back your `emoji` on a message."""

    @extend_schema(request=None, responses={200: MessageReactionResult})
    def delete(self, request, pk, emoji):
        return Response(messaging.react_to_message(actor=request.user, message_id=pk, emoji=emoji, on=False))
