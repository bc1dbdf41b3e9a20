"""The moderation desk for posts and likes.

Posts are hidden, shown again or deleted only through moderation actions (a
reason, then `moderation.actions`, which relays `postdelete` and audits).
"""

from django.contrib import admin

from moderation import actions as moderation
from moderation.admin.desk import DeskAdmin, ReadOnlyAdmin, moderation_action, short
from posts.models import Like, Post

hide_posts = moderation_action(
    "hide_posts", description="Hide selected posts", permission="change",
    apply=lambda moderator, post, reason: moderation.hide_post(moderator=moderator, post=post, reason=reason))
unhide_posts = moderation_action(
    "unhide_posts", description="Show selected hidden posts again", permission="change",
    apply=lambda moderator, post, reason: moderation.hide_post(
        moderator=moderator, post=post, reason=reason, hidden=False))
delete_posts = moderation_action(
    "delete_posts", description="Delete selected posts", permission="remove",
    apply=lambda moderator, post, reason: moderation.delete_post(moderator=moderator, post=post, reason=reason))


@admin.register(Post)
class PostAdmin(DeskAdmin):
    list_display = ["id", "author", "group", "short_content", "likes_count", "is_hidden", "created_at"]
    list_select_related = ["author", "group"]
    list_filter = ["is_hidden", ("group", admin.EmptyFieldListFilter), "created_at"]
    search_fields = ["content", "author__username", "group__name"]
    id_search_fields = ["pk", "group_id", "author_id"]
    autocomplete_fields = ["author", "group"]
    actions = [hide_posts, unhide_posts, delete_posts]

    @admin.display(description="content")
    def short_content(self, post):
        return short(post.content)

    def get_readonly_fields(self, request, obj=None):
        if not request.user.is_superuser:  # moderators change posts only through the actions
            return [f.name for f in Post._meta.fields]
        return ["likes_count", "is_hidden"]

    def has_remove_permission(self, request):
        return request.user.has_perm("posts.delete_post")

    def has_delete_permission(self, request, obj=None):
        return False  # the "Delete selected posts" action relays `postdelete`


@admin.register(Like)
class LikeAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "post", "created_at"]
    list_select_related = ["user", "post"]
    list_filter = ["created_at"]
    search_fields = ["user__username"]
    id_search_fields = ["pk", "post_id", "user_id"]
