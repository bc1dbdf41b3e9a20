"""The desk's REST side: any user reports a post, a message or a user to the moderators
(README "Moderation"), and staff delete any group or post through the desk's verbs."""

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

import groups.views
import posts.views
from config.fields import MAX_ID, IdField, StrictCharField
from config.rest.params import reason_param
from moderation import actions as moderation
from moderation.models import Announcement, Report
from moderation.selectors import reports_filed_by
from posts import actions as post_actions


class ReportCreateSerializer(serializers.Serializer):
    """`target_type` and `target_id`, or `target` such as "post:42"; and a reason."""

    target_type = serializers.ChoiceField(choices=Report.TargetType.choices, required=False)
    target_id = IdField(required=False)
    target = serializers.RegexField(r"\A(post|message|user):[1-9][0-9]{0,18}\Z", max_length=40, required=False,
                                    help_text='"post:<id>", "message:<id>" or "user:<id>"')
    reason = StrictCharField(max_length=1000, help_text="why: 1..1000 characters")

    def validate(self, attrs):
        if "target" in attrs:
            if "target_type" in attrs or "target_id" in attrs:
                raise serializers.ValidationError(
                    {"target": ["Give `target` or `target_type` and `target_id`, not both."]})
            kind, _, raw_id = attrs.pop("target").partition(":")
            if int(raw_id) > MAX_ID:
                raise serializers.ValidationError({"target": ["The id is too large."]})
            attrs["target_type"], attrs["target_id"] = kind, int(raw_id)
        elif "target_type" not in attrs or "target_id" not in attrs:
            raise serializers.ValidationError(
                {"target": ['Give `target_type` and `target_id`, or `target` such as "post:42".']})
        return attrs


class ReportSerializer(serializers.ModelSerializer):
    target = serializers.CharField(read_only=True, help_text='e.g. "post:42"')

    class Meta:
        model = Report
        fields = ["id", "target_type", "target_id", "target", "reason", "status", "created_at"]
        read_only_fields = fields


class ReportsView(GenericAPIView):
    """Report something to the moderators; list your own reports, newest first."""

    serializer_class = ReportSerializer

    def get_queryset(self):
        return reports_filed_by(self.request.user)

    @extend_schema(responses=ReportSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(ReportSerializer(page, many=True).data)

    @extend_schema(request=ReportCreateSerializer, responses={201: ReportSerializer, 200: ReportSerializer})
    def post(self, request):
        serializer = ReportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        report, created = moderation.file_report(reporter=request.user, **serializer.validated_data)
        return Response(ReportSerializer(report).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class GroupViewSet(groups.views.GroupViewSet):
    """`/api/groups/`, where staff may delete any group: through the desk, with its permission
    and its audit row (the owner deletes their own as before)."""

    def perform_destroy(self, group):
        user = self.request.user
        if group.owner_id != user.pk and user.is_staff:
            moderation.delete_group(moderator=user, group=group, reason=reason_param(self.request))
        else:
            super().perform_destroy(group)


class MessageView(groups.views.MessageView):
    """`/api/messages/{id}/`, where staff may delete any message: through the desk, with its
    permission and its audit row."""

    def perform_destroy(self, message):
        moderation.delete_message_as(actor=self.request.user, message=message, reason=reason_param(self.request))


class PostViewSet(posts.views.PostViewSet):
    """`/api/posts/`, where staff may delete any post: through the desk, with its permission
    and its audit row."""

    def perform_destroy(self, post):
        user = self.request.user
        if user.is_staff and not post_actions.can_delete_post(user, post):
            moderation.delete_post(moderator=user, post=post, reason=reason_param(self.request))
        else:
            super().perform_destroy(post)


class AnnouncementSerializer(serializers.ModelSerializer):
    groupid = serializers.IntegerField(source="group_id", allow_null=True, read_only=True,
                                       help_text="null: to everyone")

    class Meta:
        model = Announcement
        fields = ["id", "message", "level", "groupid", "starts_at", "ends_at"]
        read_only_fields = fields


class AnnouncementsView(GenericAPIView):
    """The announcements shown to you now (everyone's, and your groups'), newest first, without
    those you dismissed; anonymous visitors get everyone's."""

    serializer_class = AnnouncementSerializer
    permission_classes = [AllowAny]

    def get_queryset(self):
        return moderation.active_announcements(self.request.user)

    @extend_schema(responses=AnnouncementSerializer(many=True))
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(AnnouncementSerializer(page, many=True).data)


class DismissAnnouncementView(APIView):
    """Stop showing an announcement to you (on every device)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: inline_serializer("Dismissed", {"dismissed": serializers.BooleanField()})})
    def post(self, request, pk):
        return Response({"dismissed": moderation.dismiss_announcement(user=request.user, announcement_id=pk)})
