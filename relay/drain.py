"""Maintenance drain: a process leaves without dropping its sockets all at once.

On SIGTERM (a deploy, `docker stop`, `manage.py relay_drain --pid`), a process whose hub
runs tells each of its sockets `reconnect` (`after_ms`, `reason`), refuses new sockets and
answers `/healthz/` with 503 (so that a load balancer sends no more), closes its sockets
with 1012 spread over RELAY_DRAIN_WINDOW seconds, then hands the signal to the server,
which exits as it always did. Clients come back to other processes and resume from their
stream position: nothing is lost. RELAY_DRAIN_WINDOW=0 leaves SIGTERM to the server alone.
"""

import asyncio
import logging
import os
import random
import signal

from django.conf import settings

from relay.stream import events

log = logging.getLogger("kirimin.relay")

CLOSE_SERVICE_RESTART = 1012  # RFC 6455: the server is restarting; connect again
draining = False  # this process is draining: /healthz/ answers 503 (`config.health`), so no more come here


def install(hub):
    """Drain `hub` on SIGTERM (the running loop's, in the main thread only: where servers run it).
    Returns what undoes it (the hub's stop), or None."""
    if settings.RELAY_DRAIN_WINDOW <= 0:
        return None
    loop = asyncio.get_running_loop()
    previous = signal.getsignal(signal.SIGTERM)

    def uninstall():
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)

    try:
        loop.add_signal_handler(signal.SIGTERM, lambda: hub.spawn(_drain_then_exit(hub, uninstall)))
    except (RuntimeError, ValueError):  # not the main thread: the server keeps SIGTERM
        return None
    return uninstall


async def _drain_then_exit(hub, uninstall):
    if hub.draining:
        return
    try:
        await drain(hub, settings.RELAY_DRAIN_WINDOW)
    finally:
        uninstall()
        hub.uninstall_drain = None
        os.kill(os.getpid(), signal.SIGTERM)  # the server's own shutdown, as if we had never caught it


async def drain(hub, window, reason="maintenance"):
    """Tell every local socket to reconnect, each at its own moment within `window` seconds,
    refuse new ones, and close each at its moment with 1012."""
    global draining
    hub.draining = draining = True
    sessions = list(hub.registry.clients.values())
    random.shuffle(sessions)
    count = len(sessions)
    log.warning("relay: draining %d sockets over %.1f s (%s)", count, window, reason)
    moments = [window * i / count for i in range(count)] if count else []
    for session, moment in zip(sessions, moments, strict=True):
        await session.reply(events.reconnect(after_ms=round(moment * 1000), reason=reason))
    start = asyncio.get_running_loop().time()
    for session, moment in zip(sessions, moments, strict=True):
        delay = start + moment - asyncio.get_running_loop().time()
        if delay > 0:
            await asyncio.sleep(delay)
        await session.close_with(CLOSE_SERVICE_RESTART)
    # Those that opened meanwhile were refused; any that got through the gap are closed now.
    for session in list(hub.registry.clients.values()):
        await session.close_with(CLOSE_SERVICE_RESTART)
