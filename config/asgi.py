"""ASGI entry point: HTTP through Django, WebSocket /ws/ through the relay."""

import faulthandler
import gc
import os
import signal

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()  # sets up Django before the relay imports models

from channels.routing import ProtocolTypeRouter  # noqa: E402

from relay.routing import websocket_application  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_asgi_app,
    "websocket": websocket_application,
})

from django.conf import settings  # noqa: E402

if settings.GC_FREEZE:
    # What start-up built (modules, the app registry, URL and serializer caches) lives as
    # long as the process. Freezing it keeps the collector's full passes off it: a busy
    # relay promotes many short-lived objects (frames in flight), and every full pass
    # rescanned some 120,000 start-up objects, stalling the event loop ~70 ms each time
    # (S2: 5,987 and 6,045 msg/s without, 7,233 to 7,282 with; docs/performance.md, lever 21).
    import relay.handlers  # noqa: E402, F401 - loaded on the first frame otherwise

    gc.collect()
    gc.freeze()
if settings.GC_YOUNG_THRESHOLD:
    gc.set_threshold(settings.GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])

# `kill -USR1 <pid>` writes every thread's stack to stderr: what a stuck process is waiting on
# (the test suite asks for it when a test against real servers fails).
if hasattr(signal, "SIGUSR1"):
    faulthandler.register(signal.SIGUSR1, all_threads=True)
