"""WebSocket routing: /ws/ behind the origin check."""

from urllib.parse import urlparse

from channels.routing import URLRouter
from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import validate_host
from django.urls import path

from relay.consumer import RelayConsumer

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_allowed(origin: str, host_header: str | None = None) -> bool:
    """A browser Origin is allowed if it is a trusted origin, or if its host is in ALLOWED_HOSTS
    and it is the origin the socket is opened on (the `Host` header: same host, same port)."""
    if origin in settings.CSRF_TRUSTED_ORIGINS or origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    parsed = urlparse(origin)
    try:
        origin_port = parsed.port
    except ValueError:
        return False
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        return False
    hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not hosts:
        hosts = [".localhost", "127.0.0.1", "[::1]"]
    host = f"[{parsed.hostname}]" if ":" in parsed.hostname else parsed.hostname
    if not validate_host(host, hosts):
        return False
    if host_header is None:  # no Host header (an ASGI client of its own): the host check alone
        return True
    target = urlparse(f"//{host_header}")
    try:
        target_port = target.port
    except ValueError:
        return False
    default = _DEFAULT_PORTS[parsed.scheme]
    # Behind a proxy the Host header may carry no port while the page's origin does not either.
    return target.hostname == parsed.hostname and (target_port or default) == (origin_port or default)


class OriginValidator:
    """Refuse browser origins outside ALLOWED_HOSTS / CSRF_TRUSTED_ORIGINS; let clients without Origin in."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        headers = dict(scope.get("headers", ()))
        origin, host = headers.get(b"origin"), headers.get(b"host")
        if origin is not None and not origin_allowed(origin.decode("latin-1"),
                                                     host.decode("latin-1") if host is not None else None):
            return await WebsocketDenier()(scope, receive, send)
        return await self.app(scope, receive, send)


websocket_application = OriginValidator(URLRouter([path("ws/", RelayConsumer.as_asgi())]))
