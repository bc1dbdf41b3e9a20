"""The platform's pages: API keys for the publish API (`POST /api/publish/`), and webhooks.

A key is shown once, on the page that issues it; only its digest is stored. Keys are
revoked, never edited into another key or deleted (the list keeps who had which).
Webhook deliveries are shown with every attempt, and can be sent again at once.
"""

from django import forms
from django.contrib import admin, messages
from django.utils import timezone

from accounts import apikeys
from accounts.models import ApiKey
from moderation import actions as moderation
from moderation.admin.desk import DeskAdmin, ReadOnlyAdmin, short
from moderation.models import Announcement
from relay.stream import webhooks
from relay.stream.models import Webhook, WebhookAttempt, WebhookDelivery

SCOPES_HELP = ('Comma-separated: "users", "groups", "channels" (any of that kind), or one group or channel: '
               '"group:7", "channel:custom:scores".')


class ApiKeyForm(forms.ModelForm):
    scopes = forms.CharField(help_text=SCOPES_HELP, widget=forms.TextInput(attrs={"size": 80}))

    class Meta:
        model = ApiKey
        fields = ["name", "scopes", "rate"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["scopes"] = ", ".join(self.instance.scopes)

    def clean_scopes(self):
        scopes = [s.strip() for s in self.cleaned_data["scopes"].split(",") if s.strip()]
        bad = [s for s in scopes if not apikeys.valid_scope(s)]
        if bad or not scopes:
            raise forms.ValidationError(f"Not a scope: {', '.join(bad) or '(none given)'}. {SCOPES_HELP}")
        return scopes

    def clean_rate(self):
        rate = self.cleaned_data["rate"].strip()
        if rate and not apikeys.valid_rate(rate):
            raise forms.ValidationError('A rate is "<number>/<sec|min|hour|day>", as "120/min".')
        return rate


@admin.action(description="Revoke selected API keys", permissions=["change"])
def revoke_keys(modeladmin, request, queryset):
    count = apikeys.revoke(queryset)
    modeladmin.message_user(request, f"Revoked {count} API key(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(DeskAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "scope_list", "rate", "created_by", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["created_by"]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_by", "created_at", "last_used_at", "revoked_at"]
    actions = [revoke_keys]

    @admin.display(description="scopes")
    def scope_list(self, key):
        return ", ".join(key.scopes)

    def save_model(self, request, obj, form, change):
        raw = None if change else apikeys.new_secret(obj)
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        if raw is not None:
            messages.warning(request, f"The key for “{obj.name}” is {raw} — copy it now: it is not stored and "
                                      "will not be shown again.")

    def has_delete_permission(self, request, obj=None):
        return False  # revoked instead: the list keeps who had which key


# --- webhooks -----------------------------------------------------------------------------------------
class WebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(choices=[(e, f"{e}: {what}") for e, what in webhooks.EVENTS.items()],
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = Webhook
        fields = ["url", "secret", "events", "description", "is_active"]
        widgets = {"secret": forms.TextInput(attrs={"size": 60, "autocomplete": "off"})}

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.startswith(("https://", "http://")):
            raise forms.ValidationError("An http:// or https:// URL.")
        return url


@admin.register(Webhook)
class WebhookAdmin(DeskAdmin):
    form = WebhookForm
    list_display = ["url", "event_list", "is_active", "pending", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]

    @admin.display(description="events")
    def event_list(self, webhook):
        return ", ".join(webhook.events)

    @admin.display(description="waiting")
    def pending(self, webhook):
        return webhook.deliveries.filter(delivered_at__isnull=True).count()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        webhooks.forget_endpoints()  # this process at once; the others within a few seconds


class AttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ["at", "status", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ["-id"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.action(description="Retry selected deliveries now", permissions=["change"])
def retry_deliveries(modeladmin, request, queryset):
    count = webhooks.retry_now(queryset)
    modeladmin.message_user(request, f"{count} delivery(ies) will be sent at once (each endpoint in order).",
                            messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "event", "webhook", "created_at", "attempts", "delivered_at", "last_status",
                    "next_attempt_at"]
    list_select_related = ["webhook"]
    list_filter = ["event", "delivered_at", "created_at"]
    search_fields = ["event_id", "event"]
    fields = ["webhook", "event", "event_id", "created_at", "attempts", "next_attempt_at", "delivered_at",
              "last_status", "last_error", "body"]
    readonly_fields = fields
    inlines = [AttemptInline]
    actions = [retry_deliveries]

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("stream.change_webhookdelivery")  # the retry action only


# --- announcements ------------------------------------------------------------------------------------
class AnnouncementForm(forms.ModelForm):
    class Meta:
        model = Announcement
        fields = ["message", "level", "starts_at", "ends_at", "group"]
        help_texts = {"starts_at": "empty: now"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].required = False

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at") or timezone.now(), data.get("ends_at")
        if ends is not None and ends <= starts:
            self.add_error("ends_at", "Must be after the start.")
        return data


@admin.register(Announcement)
class AnnouncementAdmin(DeskAdmin):
    """Stored and sent through `moderation.actions.announce` (audited); read-only once made."""

    form = AnnouncementForm
    list_display = ["id", "short_message", "level", "group", "starts_at", "ends_at", "published_at", "created_by"]
    list_select_related = ["group", "created_by"]
    list_filter = ["level", "starts_at"]
    search_fields = ["message"]
    autocomplete_fields = ["group"]

    @admin.display(description="message")
    def short_message(self, item):
        return short(item.message)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        made = moderation.announce(moderator=request.user, message=data["message"], level=data["level"],
                                   starts_at=data.get("starts_at"), ends_at=data.get("ends_at"),
                                   group=data.get("group"))
        obj.pk = made.pk  # the admin's "added" message and redirect name the stored row

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)
