"""Groups, memberships, bans and messages (group and direct)."""

from django.conf import settings
from django.db import models

from groups.reactions import Reaction


class Group(models.Model):
    """A chat group; members have a role. Private groups are invisible to outsiders."""

    name = models.CharField(max_length=100)
    description = models.TextField(max_length=2000, blank=True)
    is_private = models.BooleanField(default=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_groups")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["is_private", "-id"])]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Membership(models.Model):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_membership_per_user")]
        indexes = [models.Index(fields=["user", "group"])]

    def __str__(self):
        return f"{self.user} in {self.group} ({self.role})"


class Ban(models.Model):
    """A user banned from a group may not join it again."""

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="group_bans")
    banned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True,
                                  related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "user"], name="one_ban_per_user")]

    def __str__(self):
        return f"{self.user_id} banned from {self.group_id}"


class Message(models.Model):
    """A group message (`group` set) or a direct message (`recipient` set), never both.

    Direct conversations are not modelled as two-member groups: a DM is relayed to
    both users' topics, which every socket already has, so no per-conversation
    layer group is ever joined, and history is one indexed query on the pair.
    """

    # No index of their own: each leads one of the indexes below, and every index costs each
    # message while the stream's lock is held (measured: 5% of two processes' throughput).
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_messages",
                               db_index=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, null=True, blank=True, related_name="messages",
                              db_index=False)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                                  related_name="received_messages", db_index=False)
    body = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True, help_text="when its author last edited it")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(group__isnull=False, recipient__isnull=True)
                           | models.Q(group__isnull=True, recipient__isnull=False)),
                name="message_has_one_target",
            )
        ]
        indexes = [
            models.Index(fields=["group", "-id"]),
            models.Index(fields=["sender", "recipient", "-id"]),
            models.Index(fields=["recipient", "-id"]),
        ]

    def __str__(self):
        return f"#{self.pk} from {self.sender_id}"


class ReadMarker(models.Model):
    """How far a user has read one conversation: a group (`group`) or the direct one with
    `peer`. It only moves forward; what lies after it, from others, is unread."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="read_markers")
    group = models.ForeignKey(Group, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    peer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="+")
    message_id = models.BigIntegerField(default=0, help_text="the newest message read")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(group__isnull=False, peer__isnull=True)
                           | models.Q(group__isnull=True, peer__isnull=False)),
                name="read_marker_has_one_target",
            ),
            models.UniqueConstraint(fields=["user", "group"], condition=models.Q(group__isnull=False),
                                    name="one_read_marker_per_group"),
            models.UniqueConstraint(fields=["user", "peer"], condition=models.Q(peer__isnull=False),
                                    name="one_read_marker_per_peer"),
        ]

    def __str__(self):
        return f"{self.user_id} read {self.group_id or self.peer_id} up to {self.message_id}"


class Mention(models.Model):
    """`@username` of a member in a group message: the member is mentioned there."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="one_mention_per_user")]
        indexes = [models.Index(fields=["user", "message"])]

    def __str__(self):
        return f"{self.user_id} in #{self.message_id}"


class MessageRevision(models.Model):
    """A message's text as it was before its author edited it, or when it was deleted: kept for the
    moderators (the admin shows every one), so that an edit or a delete cannot erase what was
    reported. It outlives its message (`message_id` is a plain number)."""

    class Kind(models.TextChoices):
        EDITED = "edited"
        DELETED = "deleted"

    message_id = models.BigIntegerField(db_index=True)
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    group = models.ForeignKey(Group, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                                  related_name="+")
    body = models.TextField(help_text="the text as it was until this change")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                           related_name="+", help_text="who edited or deleted it")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["message_id", "id"]

    def __str__(self):
        return f"#{self.message_id} {self.kind} at {self.at:%Y-%m-%d %H:%M}"


class MessageReaction(Reaction):
    """A user's emoji on a message (`config.reactions`)."""

    TARGET = "message"
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["message", "user", "emoji"], name="one_message_reaction")]
