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
    read_receipts = models.BooleanField(default=True, help_text="others are told how far this user has read")
    # Presence as last announced to friends and co-members (`presence` frames): it follows the
    # user's open sockets, debounced, so that a quick reconnect does not flap.
    online = models.BooleanField(default=False, db_index=True, editable=False,
                                 help_text="online as last announced to friends and co-members")
    last_seen = models.DateTimeField(null=True, blank=True, editable=False,
                                     help_text="when the user's last open socket closed")

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


class Block(models.Model):
    """`user` blocks `blocked`: no direct messages or friend requests either way, no typing,
    presence or likes relayed between them, each out of the other's feed; the blocked user's
    group messages reach `user` marked `from_blocked`. The blocked user is never told."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocks")
    blocked = models.ForeignKey(User, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "blocked"], name="one_block_per_pair"),
            models.CheckConstraint(condition=~models.Q(user=models.F("blocked")), name="no_self_block"),
        ]
        indexes = [models.Index(fields=["blocked"])]

    def __str__(self):
        return f"{self.user_id} blocks {self.blocked_id}"


class Mute(models.Model):
    """`user` mutes `muted` (until `expires_at`, if set): no notifications and no unread counts
    from them; their messages reach `user` marked `muted`."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="mutes")
    muted = models.ForeignKey(User, on_delete=models.CASCADE, related_name="muted_by")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="none: until unmuted")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "muted"], name="one_mute_per_pair"),
            models.CheckConstraint(condition=~models.Q(user=models.F("muted")), name="no_self_mute"),
        ]
        indexes = [models.Index(fields=["muted"])]

    def __str__(self):
        return f"{self.user_id} mutes {self.muted_id}"


class ApiKey(models.Model):
    """A key another service publishes with (`POST /api/publish/`, `Authorization: Api-Key <key>`).

    Only a digest of the key is stored: the key is shown once, when it is issued
    (`accounts.apikeys.issue`), and found again by its `prefix`. `scopes` say where it may
    publish: "users", "groups", "channels" (any of that kind), or "group:<id>" and
    "channel:<name>" (that one)."""

    name = models.CharField(max_length=100, help_text="who uses it, for the people who read this list")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    digest = models.CharField(max_length=64, editable=False, help_text="SHA-256 of the whole key")
    scopes = models.JSONField(default=list, blank=True)
    rate = models.CharField(max_length=20, blank=True,
                            help_text='publishes allowed, as "120/min" (empty: PUBLISH_RATE)')
    created_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"
