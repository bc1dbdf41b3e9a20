"""The Channels tutorial chat, as the baseline peer: one layer message per member."""

import os

SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["daphne", "channels"]
ROOT_URLCONF = None
ASGI_APPLICATION = "asgi.application"
_host = {"address": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9"), "socket_timeout": None,
         "max_connections": 1000}
CHANNEL_LAYERS = {
    "default": {
        "BACKEND": ("channels_redis.pubsub.RedisPubSubChannelLayer" if os.environ.get("PEER_LAYER") == "pubsub"
                    else "channels_redis.core.RedisChannelLayer"),
        "CONFIG": {"hosts": [_host]},
    }
}
