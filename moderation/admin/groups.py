"""The moderation desk for groups: groups, memberships, bans and messages.

Memberships and messages change only through moderation actions (a reason, then
`moderation.actions`, which relays `kick` / `deletemessage` and audits).
"""

from django.contrib import admin
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from groups.models import Ban, Group, Membership, Message, MessageRevision
from moderation import actions as moderation
from moderation.admin.desk import DeskAdmin, ReadOnlyAdmin, moderation_action, short

delete_groups = moderation_action(
    "delete_groups", description="Delete selected groups", permission="remove",
    apply=lambda moderator, group, reason: moderation.delete_group(moderator=moderator, group=group, reason=reason))


@admin.register(Group)
class GroupAdmin(DeskAdmin):
    list_display = ["id", "name", "owner", "is_private", "members_count", "created_at"]
    list_select_related = ["owner"]
    list_filter = ["is_private", "created_at"]
    search_fields = ["name", "owner__username"]
    autocomplete_fields = ["owner"]

    def get_queryset(self, request):
        counts = (Membership.objects.filter(group=OuterRef("pk")).order_by().values("group")
                  .annotate(n=Count("id")).values("n"))
        return super().get_queryset(request).annotate(members_count=Coalesce(Subquery(counts), 0))

    @admin.display(description="members")
    def members_count(self, group):
        return group.members_count

    actions = [delete_groups]

    def has_delete_permission(self, request, obj=None):
        return False  # the "Delete selected groups" action: members' sockets follow, and it is audited

    def has_remove_permission(self, request):
        return request.user.has_perm("groups.delete_group")


remove_members = moderation_action(
    "remove_members", description="Remove selected members from their groups (kick)", permission="remove",
    apply=lambda moderator, m, reason: moderation.remove_member(
        moderator=moderator, group=m.group, target=m.user, ban=False, reason=reason))
ban_members = moderation_action(
    "ban_members", description="Remove and ban selected members from their groups", permission="remove",
    apply=lambda moderator, m, reason: moderation.remove_member(
        moderator=moderator, group=m.group, target=m.user, ban=True, reason=reason))


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "group", "role", "joined_at"]
    list_select_related = ["user", "group"]
    list_filter = ["role", "group__is_private", "joined_at"]
    search_fields = ["user__username", "group__name"]
    id_search_fields = ["pk", "group_id", "user_id"]
    autocomplete_fields = ["user", "group"]
    actions = [remove_members, ban_members]

    def has_remove_permission(self, request):
        return request.user.has_perm("groups.delete_membership")


@admin.register(Ban)
class BanAdmin(DeskAdmin):
    list_display = ["id", "user", "group", "banned_by", "created_at"]
    list_select_related = ["user", "group", "banned_by"]
    list_filter = ["created_at"]
    search_fields = ["user__username", "group__name"]
    id_search_fields = ["pk", "group_id", "user_id"]
    autocomplete_fields = ["user", "group", "banned_by"]

    def has_add_permission(self, request):
        return False  # ban with the "Remove and ban" membership action: it also kicks

    def has_change_permission(self, request, obj=None):
        return False


class MessageKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request, model_admin):
        return [("group", "group message"), ("direct", "direct message")]

    def queryset(self, request, queryset):
        if self.value() == "group":
            return queryset.filter(group__isnull=False)
        if self.value() == "direct":
            return queryset.filter(group__isnull=True)
        return queryset


@admin.display(description="to")
def to(message):
    """A message's (or a revision's) group or recipient."""
    return f"group {message.group}" if message.group_id else message.recipient


delete_messages = moderation_action(
    "delete_messages", description="Delete selected messages", permission="remove",
    apply=lambda moderator, message, reason: moderation.delete_message(
        moderator=moderator, message=message, reason=reason))


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["id", "sender", to, "short_body", "created_at"]
    list_select_related = ["sender", "group", "recipient"]
    list_filter = [MessageKindFilter, "created_at"]
    search_fields = ["body", "sender__username"]
    id_search_fields = ["pk", "group_id", "sender_id"]
    autocomplete_fields = ["sender", "group", "recipient"]
    actions = [delete_messages]

    @admin.display(description="message")
    def short_body(self, message):
        return short(message.body) + (" (edited)" if message.edited_at else "")

    def has_remove_permission(self, request):
        return request.user.has_perm("groups.delete_message")


@admin.register(MessageRevision)
class MessageRevisionAdmin(ReadOnlyAdmin):
    """Every earlier text of a message: what it said before each edit of its author, and when it
    was deleted (by whom). An edit or a delete cannot erase what was reported."""

    list_display = ["message_id", "kind", "sender", "by", to, "short_body", "at"]
    list_select_related = ["sender", "by", "group", "recipient"]
    list_filter = ["kind", "at"]
    search_fields = ["body", "sender__username"]
    id_search_fields = ["message_id", "sender_id", "group_id"]

    @admin.display(description="text until then")
    def short_body(self, revision):
        return short(revision.body)
