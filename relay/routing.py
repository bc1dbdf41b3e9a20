"""WebSocket routing: /ws/ behind the origin check."""

from urllib.parse import urlparse

from channels.routing import URLRouter
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host
from django.urls import path

from relay.consumer import RelayConsumer


def origin_allowed(origin: str) -> bool:
    """A browser Origin is allowed if its host is in ALLOWED_HOSTS or it is a trusted origin."""
    if origin in settings.CSRF_TRUSTED_ORIGINS or origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    parsed = urlparse(origin)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    host = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
    return validate_host(host, hosts)


class OriginValidator:
    """Refuse browser origins outside ALLOWED_HOSTS / CSRF_TRUSTED_ORIGINS; let clients without Origin in."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        origin = next((v for k, v in scope.get("headers", ()) if k == b"origin"), None)
        if origin is not None and not origin_allowed(origin.decode("latin-1")):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


websocket_application = OriginValidator(URLRouter([path("ws/", RelayConsumer.as_asgi())]))
