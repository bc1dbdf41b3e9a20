"""The moderation desk: users, reports and the audit trail, and the pieces every app's admin shares.

Pages stay fast on tables of 100k rows: each changelist loads its related rows
with `list_select_related`, filters only on columns (never on a list of related
objects or of distinct values), skips the unfiltered count, and a number in the
search box also finds a row by id. Foreign keys are edited with autocompletes.

Rows whose change must reach live clients (users' activity, memberships, posts,
messages) are never edited or deleted through Django's generic forms: moderation
actions ask for a reason, then call `accounts.moderation`, which runs the domain
action (relayed after commit) and writes the audit trail.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from accounts import moderation
from accounts.models import FriendRequest, ModerationLog, Notification, Report, User
from config.errors import KiriminError

# --- shared by every app's admin -------------------------------------------------------------------


class DeskAdmin(admin.ModelAdmin):
    """A changelist that stays fast on big tables."""

    show_full_result_count = False  # one COUNT(*) over the whole table is enough
    list_per_page = 50
    ordering = ["-id"]
    id_search_fields = ["pk"]  # a numeric search term also matches these exactly

    def get_search_results(self, request, queryset, search_term):
        """Text search as usual; a number also finds the row with that id."""
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if self.search_fields and term.isascii() and term.isdigit() and len(term) <= 18:
            for field in self.id_search_fields:
                found |= queryset.filter(**{field: int(term)})
        return found, may_have_duplicates


class ReadOnlyAdmin(DeskAdmin):
    """Rows shown, never added, edited or deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def short(text, size=80):
    text = " ".join(str(text).split())
    return text if len(text) <= size else text[: size - 1] + "…"


_ADMIN_PAGES = {
    "user": "admin:accounts_user_change",
    "post": "admin:posts_post_change",
    "message": "admin:groups_message_change",
    "report": "admin:accounts_report_change",
    "group": "admin:groups_group_change",
}


def target_link(target_type, target_id):
    """`type:id`, linked to the target's admin page (no query)."""
    page = _ADMIN_PAGES.get(target_type)
    if page is None:
        return f"{target_type}:{target_id}"
    return format_html('<a href="{}">{}:{}</a>', reverse(page, args=[target_id]), target_type, target_id)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=1000, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
                             help_text="Stored in the audit trail. A removed member is shown it too.")


def confirm_with_reason(modeladmin, request, queryset, *, action, title, apply):
    """Body of a moderation action: ask for a reason, then `apply(moderator, row, reason)` to each row.

    The first POST (from the changelist) renders the confirmation page; it posts
    back with `post=yes` and the reason, and Django's changelist calls the action again.
    """
    form = ReasonForm(request.POST if request.POST.get("post") == "yes" else None)
    if form.is_bound and form.is_valid():
        reason = form.cleaned_data["reason"]
        changed = 0
        rows = list(queryset)
        for row in rows:
            try:
                changed += bool(apply(request.user, row, reason))
            except KiriminError as exc:
                modeladmin.message_user(request, f"{row}: {exc.detail}", messages.ERROR)
        modeladmin.message_user(request, f"{title}: {changed} of {len(rows)} changed.", messages.SUCCESS)
        return None
    pks = list(queryset.values_list("pk", flat=True))
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "opts": modeladmin.model._meta,
        "form": form,
        "action": action,
        "pks": pks,
        "count": len(pks),
        "shown": queryset[:50],
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/accounts/moderation_confirm.html", context)


def moderation_action(name, *, description, permission, apply):
    """An admin action named `name` that asks for a reason, then applies `apply(moderator, row, reason)`."""

    def action(modeladmin, request, queryset):
        return confirm_with_reason(modeladmin, request, queryset, action=name, title=description, apply=apply)

    action.__name__ = name
    return admin.action(description=description, permissions=[permission])(action)


# --- users -------------------------------------------------------------------------------------------
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


# --- reports: the queue ------------------------------------------------------------------------------
class ReportStatusFilter(admin.SimpleListFilter):
    """Open reports by default: the queue."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*Report.Status.choices, ("all", "All")]

    def queryset(self, request, queryset):
        value = self.value() or Report.Status.OPEN
        return queryset if value == "all" else queryset.filter(status=value)

    def choices(self, changelist):
        current = self.value() or Report.Status.OPEN
        for value, title in self.lookup_choices:
            yield {"selected": current == value, "display": title,
                   "query_string": changelist.get_query_string({self.parameter_name: value})}


class TargetTypeFilter(admin.SimpleListFilter):
    title = "target type"
    parameter_name = "target_type"

    def lookups(self, request, model_admin):
        return [("user", "user"), ("post", "post"), ("message", "message"), ("report", "report")]

    def queryset(self, request, queryset):
        return queryset.filter(target_type=self.value()) if self.value() else queryset


def _report_handler(verb, handle):
    def action(modeladmin, request, queryset):
        modeladmin.handle_reports(request, queryset, verb, handle)

    action.__name__ = f"{verb}_reports"
    return action


@admin.register(Report)
class ReportAdmin(DeskAdmin):
    list_display = ["id", "target_column", "short_target", "target_owner", "reporter", "short_reason", "status",
                    "created_at", "handled_by", "act"]
    list_display_links = ["id"]
    list_select_related = ["reporter", "target_owner", "handled_by"]
    list_filter = [ReportStatusFilter, "target_type", "created_at"]
    search_fields = ["reason", "target_repr", "reporter__username", "target_owner__username"]
    id_search_fields = ["pk", "target_id"]
    autocomplete_fields = ["reporter", "target_owner", "handled_by"]
    actions = [
        admin.action(description="Act on the targets (hide / delete / deactivate) and resolve",
                     permissions=["change"])(_report_handler("take_down", moderation.take_down)),
        admin.action(description="Resolve selected reports", permissions=["change"])(
            _report_handler("resolve", moderation.resolve_report)),
        admin.action(description="Dismiss selected reports", permissions=["change"])(
            _report_handler("dismiss", moderation.dismiss_report)),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Report._meta.fields]  # reports change only through the actions

    def has_add_permission(self, request):
        return False  # users file reports through the API

    @admin.display(description="target", ordering="target_id")
    def target_column(self, report):
        return target_link(report.target_type, report.target_id)

    @admin.display(description="what was reported")
    def short_target(self, report):
        return short(report.target_repr, 60)

    @admin.display(description="reason")
    def short_reason(self, report):
        return short(report.reason, 60)

    @admin.display(description="")
    def act(self, report):
        if report.status != Report.Status.OPEN:
            return "—"
        # A submit button of the changelist form, sent to this report's one-click URL.
        return format_html('<button type="submit" class="button" formaction="{}">{}</button>',
                           reverse("admin:accounts_report_take_down", args=[report.pk]),
                           moderation.TAKE_DOWN_LABELS[report.target_type])

    def handle_reports(self, request, reports, verb, handle):
        done = 0
        for report in reports:
            try:
                done += bool(handle(moderator=request.user, report=report))
            except KiriminError as exc:
                self.message_user(request, f"{report}: {exc.detail}", messages.ERROR)
        self.message_user(request, f"{verb.replace('_', ' ').capitalize()}: {done} report(s).", messages.SUCCESS)

    # One click from a report (its row or its page): act on the target, or dismiss.
    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:report_id>/take-down/", view(self.one_click_view(moderation.take_down, "take_down")),
                 name="accounts_report_take_down"),
            path("<int:report_id>/dismiss/", view(self.one_click_view(moderation.dismiss_report, "dismiss")),
                 name="accounts_report_dismiss"),
            *super().get_urls(),
        ]

    def one_click_view(self, handle, verb):
        def one_click(request, report_id):
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            if not self.has_change_permission(request):
                raise PermissionDenied
            report = get_object_or_404(Report, pk=report_id)
            self.handle_reports(request, [report], verb, handle)
            return HttpResponseRedirect(reverse("admin:accounts_report_changelist"))

        return one_click

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["take_down_label"] = moderation.TAKE_DOWN_LABELS.get(obj.target_type, "Act")
        return super().render_change_form(request, context, add, change, form_url, obj)


# --- the audit trail ---------------------------------------------------------------------------------
@admin.register(ModerationLog)
class ModerationLogAdmin(ReadOnlyAdmin):
    """Read-only for everyone, superusers included."""

    list_display = ["created_at", "moderator_name", "action", "target_column", "short_target", "short_reason"]
    list_filter = ["action", TargetTypeFilter, "created_at"]
    search_fields = ["moderator_name", "target_repr", "reason"]
    id_search_fields = ["pk", "target_id"]

    @admin.display(description="target", ordering="target_id")
    def target_column(self, entry):
        return target_link(entry.target_type, entry.target_id)

    @admin.display(description="what")
    def short_target(self, entry):
        return short(entry.target_repr, 60)

    @admin.display(description="reason")
    def short_reason(self, entry):
        return short(entry.reason, 60)
