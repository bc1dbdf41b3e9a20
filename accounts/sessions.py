"""Sign-in sessions: each login starts one, named by the `sid` claim that its refresh token and
every access token made from it carry (rotation keeps it). Logging out ends the session at once:
its access tokens are refused from then on, on REST and on sockets, instead of living out
their lifetime. The ended sessions are kept in the cache (Redis in production) for as long
as a refresh token lives; while the cache is unreachable tokens are taken as they are
(logged), as the throttles do, rather than failing every request."""

import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from config.redis_clients import REDIS_DOWN

log = logging.getLogger("kirimin.api")

SID_CLAIM = "sid"


def _key(sid):
    return f"session-ended:{sid}"


def start(user) -> RefreshToken:
    """A refresh token for a new session of `user`."""
    refresh = SessionRefreshToken.for_user(user)
    refresh[SID_CLAIM] = uuid.uuid4().hex
    return refresh


def end(token):
    """End the session `token` (a refresh or access token) belongs to."""
    sid = token.get(SID_CLAIM)
    if not sid:
        return
    # As long as any token of the session could still be presented, refresh tokens included.
    lifetime = settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].total_seconds()
    try:
        cache.set(_key(sid), True, timeout=int(lifetime) + 60)
    except REDIS_DOWN as exc:
        log.warning("logout: could not record the end of session %s: %r", sid, exc)


def ended(sid) -> bool:
    if not sid:
        return False
    try:
        return bool(cache.get(_key(sid)))
    except REDIS_DOWN as exc:
        log.warning("sessions: the cache is unreachable, taking a token as valid: %r", exc)
        return False


class _EndsWithItsSession:
    """A token refused once its session has ended."""

    def verify(self):
        super().verify()
        if ended(self.get(SID_CLAIM)):
            raise TokenError("This session has been signed out.")


class SessionAccessToken(_EndsWithItsSession, AccessToken):
    """SIMPLE_JWT's AUTH_TOKEN_CLASSES: REST and sockets."""


class SessionRefreshToken(_EndsWithItsSession, RefreshToken):
    """Refresh and logout: a refresh token that escaped the blacklist (two refreshes of one
    token at once) is refused with its session."""


class SessionRefreshSerializer(TokenRefreshSerializer):
    token_class = SessionRefreshToken
