"""The report queue (open reports first, one click to act on a target) and the audit trail,
read-only for everyone."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from config.errors import KiriminError
from moderation import actions as moderation
from moderation.admin.desk import DeskAdmin, ReadOnlyAdmin, short, target_link
from moderation.models import ModerationLog, Report


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
                           reverse("admin:moderation_report_take_down", args=[report.pk]),
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
                 name="moderation_report_take_down"),
            path("<int:report_id>/dismiss/", view(self.one_click_view(moderation.dismiss_report, "dismiss")),
                 name="moderation_report_dismiss"),
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
            return HttpResponseRedirect(reverse("admin:moderation_report_changelist"))

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
