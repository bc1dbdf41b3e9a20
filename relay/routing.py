"""WebSocket routing (placeholder until the relay lands)."""

from channels.routing import URLRouter

websocket_application = URLRouter([])
