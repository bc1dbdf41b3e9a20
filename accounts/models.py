"""The user model: Django's user plus a display name."""

from django.contrib.auth.models import AbstractUser
from django.db import models

from accounts.usernames import skeleton


class User(AbstractUser):
    """A Kirimin user; shown to clients as {"id", "username", "display_name"}."""

    display_name = models.CharField(max_length=150, blank=True)
    # The username's look-alike key (accounts.usernames.skeleton): sign-up refuses a name whose
    # key is taken.
    username_skeleton = models.CharField(max_length=600, db_index=True, editable=False, default="")

    class Meta(AbstractUser.Meta):
        permissions = [("deactivate_user", "Can deactivate (ban) and reactivate users")]

    def save(self, *args, **kwargs):
        if not self.display_name:
            self.display_name = self.username
        self.username_skeleton = skeleton(self.username)
        if kwargs.get("update_fields") is not None and "username" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "username_skeleton"}
        super().save(*args, **kwargs)

    def __str__(self):
        return self.username


class Notification(models.Model):
    """Something that happened to a user: a like, a friend request, a kick."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30)
    message = models.CharField(max_length=500)
    data = models.JSONField(default=dict, blank=True)
    read = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "read", "-id"])]

    def __str__(self):
        return f"{self.kind} for {self.user_id}"


class FriendRequest(models.Model):
    """A friend request; accepted requests are friendships."""

    class Status(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"

    from_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sent_friend_requests")
    to_user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="received_friend_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["from_user", "to_user"], name="one_request_per_pair"),
            models.CheckConstraint(condition=~models.Q(from_user=models.F("to_user")), name="no_self_friendship"),
        ]
        indexes = [models.Index(fields=["to_user", "status"])]

    def __str__(self):
        return f"{self.from_user_id} -> {self.to_user_id} ({self.status})"


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

    reporter = models.ForeignKey(User, on_delete=models.CASCADE, related_name="reports_filed")
    target_type = models.CharField(max_length=10, choices=TargetType.choices)
    target_id = models.PositiveBigIntegerField()
    target_owner = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
                                     help_text="the post's author, the message's sender, or the reported user")
    target_repr = models.CharField(max_length=200, blank=True)
    reason = models.TextField(max_length=1000)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    handled_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
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

    moderator = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    moderator_name = models.CharField(max_length=150, help_text="kept if the account is deleted")
    action = models.CharField(max_length=30, choices=Action.choices)
    target_type = models.CharField(max_length=20)
    target_id = models.PositiveBigIntegerField()
    target_repr = models.CharField(max_length=200, blank=True)
    reason = models.TextField(max_length=1000, blank=True)
    details = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "audit entry"
        verbose_name_plural = "audit trail"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self):
        return f"{self.moderator_name} {self.action} {self.target}"

    @property
    def target(self):
        return f"{self.target_type}:{self.target_id}"
