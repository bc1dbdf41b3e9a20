"""What the moderation desk keeps: users' reports, the audit trail and announcements."""

from django.conf import settings
from django.db import models


class Report(models.Model):
    """A user's report of a post, a message or a user; moderators resolve or dismiss it.

    One reporter has at most one open report per target: reporting again returns it.
    `target_repr` is a snapshot taken when the report was filed, so the queue still
    shows what was reported after the target is edited or deleted.
    """

    class TargetType(models.TextChoices):
        POST = "post"
        MESSAGE = "message"
        USER = "user"

    class Status(models.TextChoices):
        OPEN = "open"
        RESOLVED = "resolved"
        DISMISSED = "dismissed"

    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports_filed")
    target_type = models.CharField(max_length=10, choices=TargetType.choices)
    target_id = models.PositiveBigIntegerField()
    target_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                     help_text="the post's author, the message's sender, or the reported user")
    target_repr = models.CharField(max_length=200, blank=True)
    reason = models.TextField(max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_report"  # made in accounts, before the desk had an app of its own
        constraints = [
            models.UniqueConstraint(fields=["reporter", "target_type", "target_id"],
                                    condition=models.Q(status="open"), name="one_open_report_per_target"),
        ]
        indexes = [models.Index(fields=["status", "-id"]), models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"report #{self.pk} on {self.target}"

    @property
    def target(self):
        return f"{self.target_type}:{self.target_id}"


class ModerationLog(models.Model):
    """The audit trail: one row per moderation action, written in the action's transaction."""

    class Action(models.TextChoices):
        DEACTIVATE_USER = "deactivate_user"
        REACTIVATE_USER = "reactivate_user"
        REMOVE_MEMBER = "remove_member"
        BAN_MEMBER = "ban_member"
        HIDE_POST = "hide_post"
        UNHIDE_POST = "unhide_post"
        DELETE_POST = "delete_post"
        DELETE_MESSAGE = "delete_message"
        DELETE_GROUP = "delete_group"
        RESOLVE_REPORT = "resolve_report"
        DISMISS_REPORT = "dismiss_report"
        ANNOUNCE = "announce"

    moderator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    moderator_name = models.CharField(max_length=150, help_text="kept if the account is deleted")
    action = models.CharField(max_length=30, choices=Action.choices)
    target_type = models.CharField(max_length=20)
    target_id = models.PositiveBigIntegerField()
    target_repr = models.CharField(max_length=200, blank=True)
    reason = models.TextField(max_length=1000, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "accounts_moderationlog"
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.moderator_name} {self.action} {self.target}"

    @property
    def target(self):
        return f"{self.target_type}:{self.target_id}"


class Announcement(models.Model):
    """A notice from the operators, shown from `starts_at` to `ends_at` to everyone (anonymous
    sockets included) or to one group's members: the `announcement` frame when it starts, and
    `GET /api/announcements/` until it ends or the user dismisses it."""

    class Level(models.TextChoices):
        INFO = "info"
        WARNING = "warning"
        CRITICAL = "critical"

    message = models.TextField(max_length=1000)
    level = models.CharField(max_length=10, choices=Level.choices, default=Level.INFO)
    starts_at = models.DateTimeField(help_text="shown from then on (the frame goes out then)")
    ends_at = models.DateTimeField(null=True, blank=True, help_text="none: until removed")
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, null=True, blank=True, related_name="+",
                              help_text="none: everyone")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False,
                                        help_text="when its frame went out")

    class Meta:
        indexes = [models.Index(fields=["published_at", "starts_at"])]

    def __str__(self):
        return f"{self.level}: {self.message[:60]}"


class AnnouncementDismissal(models.Model):
    announcement = models.ForeignKey(Announcement, on_delete=models.CASCADE, related_name="dismissals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["announcement", "user"], name="one_dismissal_per_user")]

    def __str__(self):
        return f"{self.user_id} dismissed {self.announcement_id}"
