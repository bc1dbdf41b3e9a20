"""API keys: how another service signs its requests (`Authorization: Api-Key <key>`).

A key is `kmn_<prefix>_<secret>`: the prefix finds its row, and only the SHA-256 digest of the
whole key is stored (the secret has 256 random bits, so a fast digest is as good as a slow
password hash here, and costs nothing per request). It is shown once, when issued.
"""

import hashlib
import hmac
import re
import secrets
from datetime import timedelta

from django.contrib.auth.models import AnonymousUser
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from accounts.models import ApiKey

KEYWORD = "Api-Key"
_SHAPE = re.compile(r"kmn_([0-9a-f]{12})_[A-Za-z0-9_-]{43}")
_USED_EVERY = timedelta(minutes=1)  # `last_used_at` is written at most this often


def _digest(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(*, name, scopes, rate="", by=None):
    """A new key: (its row, the key itself, which is never shown again)."""
    key = ApiKey(name=name, scopes=list(scopes), rate=rate, created_by=by)
    raw = new_secret(key)
    key.save()
    return key, raw


def new_secret(key):
    """Give an unsaved `ApiKey` its prefix and digest; returns the key itself (shown once)."""
    key.prefix = secrets.token_hex(6)
    raw = f"kmn_{key.prefix}_{secrets.token_urlsafe(32)}"
    key.digest = _digest(raw)
    return raw


def verify(raw):
    """The live `ApiKey` that `raw` is, or None."""
    match = _SHAPE.fullmatch(raw or "")
    if match is None:
        return None
    key = ApiKey.objects.filter(prefix=match.group(1), revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.digest, _digest(raw)):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > _USED_EVERY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return key


def revoke(keys):
    """Revoke `keys` (a queryset) at once; returns how many were live."""
    return keys.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


_SCOPE = re.compile(r"users|groups|channels|group:[1-9][0-9]{0,18}|channel:\S{1,64}")
_RATE = re.compile(r"[1-9][0-9]{0,8}/(s|sec|second|m|min|minute|h|hour|d|day)")


def valid_scope(scope):
    return _SCOPE.fullmatch(scope) is not None


def valid_rate(rate):
    return _RATE.fullmatch(rate) is not None


def allows(key, kind, name=None):
    """Whether `key` may publish to `kind` ("users", "groups", "channels"), or to one of them:
    `name` as "group:<id>" or "channel:<name>"."""
    scopes = set(key.scopes)
    return kind in scopes or (name is not None and name in scopes)


class ApiKeyAuthentication(BaseAuthentication):
    """`Authorization: Api-Key <key>`: the request is anonymous, with the key as `request.auth`."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode(errors="replace").lower() != KEYWORD.lower():
            return None
        if len(parts) != 2:
            raise AuthenticationFailed("The Api-Key header takes one key.")
        key = verify(parts[1].decode(errors="replace"))
        if key is None:
            raise AuthenticationFailed("Unknown or revoked API key.")
        return AnonymousUser(), key

    def authenticate_header(self, request):
        return KEYWORD


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """The API key in the OpenAPI document."""

    target_class = ApiKeyAuthentication
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization",
                "description": "`Api-Key <key>`: a key issued in the admin (API keys)"}
