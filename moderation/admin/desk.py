"""The desk's pieces every page shares: fast changelists, read-only pages, and the
moderation action that asks for a reason before it calls `moderation.actions`.

Pages stay fast on tables of 100k rows: each changelist loads its related rows
with `list_select_related`, filters only on columns (never on a list of related
objects or of distinct values), skips the unfiltered count, and a number in the
search box also finds a row by id. Foreign keys are edited with autocompletes.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from config.errors import KiriminError


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
    "report": "admin:moderation_report_change",
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
    return TemplateResponse(request, "admin/moderation/moderation_confirm.html", context)


def moderation_action(name, *, description, permission, apply):
    """An admin action named `name` that asks for a reason, then applies `apply(moderator, row, reason)`."""

    def action(modeladmin, request, queryset):
        return confirm_with_reason(modeladmin, request, queryset, action=name, title=description, apply=apply)

    action.__name__ = name
    return admin.action(description=description, permissions=[permission])(action)
