"""Posts and likes."""

from django.conf import settings
from django.db import models

from groups.reactions import Reaction


class Post(models.Model):
    """A post, public or inside a group; `likes_count` is kept exact by `posts.actions`."""

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="posts")
    group = models.ForeignKey("groups.Group", on_delete=models.CASCADE, null=True, blank=True, related_name="posts")
    content = models.TextField(max_length=10000)
    likes_count = models.PositiveIntegerField(default=0)
    is_hidden = models.BooleanField(default=False, help_text="hidden by a moderator")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    edited_at = models.DateTimeField(null=True, blank=True, help_text="when its author last edited it")

    class Meta:
        indexes = [models.Index(fields=["group", "-id"]), models.Index(fields=["author", "-id"])]

    def __str__(self):
        return f"#{self.pk} by {self.author_id}"


class Like(models.Model):
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="likes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="likes")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user"], name="one_like_per_user")]

    def __str__(self):
        return f"{self.user_id} likes {self.post_id}"


class PostReaction(Reaction):
    """A user's emoji on a post (`config.reactions`); likes stay as they are."""

    TARGET = "post"
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reactions")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["post", "user", "emoji"], name="one_post_reaction")]
