"""The platform's pages: API keys for the publish API (`POST /api/publish/`).

A key is shown once, on the page that issues it; only its digest is stored. Keys are
revoked, never edited into another key or deleted (the list keeps who had which).
"""

from django import forms
from django.contrib import admin, messages

from accounts import apikeys
from accounts.models import ApiKey
from moderation.admin.desk import DeskAdmin

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
        if not change:
            raw = apikeys.new_secret(obj)
            obj.created_by = request.user
            super().save_model(request, obj, form, change)
            messages.warning(request, f"The key for “{obj.name}” is {raw} — copy it now: it is not stored and "
                                      "will not be shown again.")
            return
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # revoked instead: the list keeps who had which key
