"""The desk's users: deactivate and reactivate (audited, sockets closed), notifications and
friend requests to look at."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.models import FriendRequest, Notification, User
from moderation import actions as moderation
from moderation.admin.desk import DeskAdmin, moderation_action, short

deactivate_users = moderation_action(
    "deactivate_users", description="Deactivate (ban) selected users", permission="deactivate",
    apply=lambda moderator, user, reason: moderation.deactivate_user(moderator=moderator, user=user, reason=reason))
reactivate_users = moderation_action(
    "reactivate_users", description="Reactivate selected users", permission="deactivate",
    apply=lambda moderator, user, reason: moderation.reactivate_user(moderator=moderator, user=user, reason=reason))


@admin.register(User)
class UserAdmin(DeskAdmin, BaseUserAdmin):
    list_display = ["username", "display_name", "email", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser", "date_joined"]
    search_fields = ["username", "display_name", "email"]
    fieldsets = BaseUserAdmin.fieldsets + (("Profile", {"fields": ["display_name"]}),)
    # Activity changes only through the actions, which close the user's sockets and are audited.
    readonly_fields = ["is_active", "last_login", "date_joined"]
    actions = [deactivate_users, reactivate_users]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:  # nobody grants themselves more rights
            fields += ["is_staff", "is_superuser", "groups", "user_permissions"]
        return fields

    def has_deactivate_permission(self, request):
        return request.user.has_perm("accounts.deactivate_user")

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: deleting would drop their content without relaying it


@admin.register(Notification)
class NotificationAdmin(DeskAdmin):
    list_display = ["id", "user", "kind", "short_message", "read", "created_at"]
    list_select_related = ["user"]
    list_filter = ["read", "created_at"]
    search_fields = ["user__username", "=kind", "message"]
    autocomplete_fields = ["user"]

    @admin.display(description="message")
    def short_message(self, note):
        return short(note.message)


@admin.register(FriendRequest)
class FriendRequestAdmin(DeskAdmin):
    list_display = ["id", "from_user", "to_user", "status", "created_at", "responded_at"]
    list_select_related = ["from_user", "to_user"]
    list_filter = ["status", "created_at"]
    search_fields = ["from_user__username", "to_user__username"]
    autocomplete_fields = ["from_user", "to_user"]
