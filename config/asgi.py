"""ASGI entry point: HTTP through Django, WebSocket /ws/ through the relay."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()  # sets up Django before the relay imports models

from channels.routing import ProtocolTypeRouter  # noqa: E402

from relay.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": websocket_application,
})
