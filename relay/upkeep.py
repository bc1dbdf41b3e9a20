"""The hub's upkeep, once every `RELAY_STREAM_POLL` seconds: what keeps a process's relay
whole while nothing else happens.

- An entry lost with nothing after it (a Redis outage at the wrong moment) is read back:
  the hub compares its position with the stream's head.
- Anonymous sockets idle for `RELAY_ANONYMOUS_IDLE` seconds are closed.
- Presence: the process's socket counts are kept alive every few seconds (a third of
  `RELAY_PRESENCE_TTL`, 1 to 5 s), and all written again after an outage; the users of
  processes gone meanwhile are reaped, and once a minute one process sweeps whoever is
  told online with no socket anywhere (`relay.liveness`).
- After the layer broke (the subscriber connection, or a failed call), and hourly anyway,
  the hub joins the stream's layer group again: Redis may have restarted empty.
- Hourly, entries older than `RELAY_STREAM_RETENTION` are trimmed.
- Announcements whose time has come since are sent (by one process, whichever is first).
"""

import asyncio
import logging
import time

from channels.db import database_sync_to_async
from django.conf import settings

from moderation import actions as moderation
from relay.liveness import SWEEP_EVERY
from relay.stream import publish, read
from relay.stream.topics import stream_group

log = logging.getLogger("kirimin.relay")

# An anonymous socket that sent no frame for RELAY_ANONYMOUS_IDLE seconds.
CLOSE_IDLE_ANONYMOUS = 4408
_GROUP_REFRESH = 3600  # re-add the stream group hourly; layer groups expire after a day
_TRIM_EVERY = 3600

# On Channels' database thread, which closes its connection after each call: these reads are
# small and rare, and must not leave a connection open in every worker thread they land on.
read_head = database_sync_to_async(read.head)
_trim = database_sync_to_async(read.trim)


@database_sync_to_async
def _announcements_due():
    """The frames of announcements that started since (committed), to send; whichever process
    gets there first sends each."""
    publish.take()  # nothing of another action's (this thread runs only this)
    moderation.publish_due_announcements()
    return publish.take()


class Upkeep:
    def __init__(self, hub):
        self.hub = hub
        self.lost = False  # the layer broke and the hub has not joined its group again since
        self._disconnects = 0  # the layer's count of subscriber breaks already handled

    def mark_lost(self, exc):
        if not self.lost:
            log.warning("relay hub lost the channel layer (the stream is read back meanwhile): %r", exc)
        self.lost = True

    async def run(self):
        hub = self.hub
        interval = settings.RELAY_STREAM_POLL
        heartbeat_every = max(1.0, min(5.0, settings.RELAY_PRESENCE_TTL / 3))
        last_refresh = last_heartbeat = last_trim = last_sweep = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                head, _ = await read_head()
                if head > hub.position:
                    hub.fill_up_to(head)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("relay hub could not read the stream's head", exc_info=True)
            now = time.monotonic()
            await self._close_idle_anonymous(now)
            disconnects = getattr(hub.layer, "disconnects", 0)
            if disconnects != self._disconnects:
                self._disconnects = disconnects
                self.mark_lost(ConnectionError("the channel layer's subscriber connection broke"))
            if now - last_heartbeat < heartbeat_every and not self.lost:
                continue
            last_heartbeat = now
            try:
                if await hub.presence.heartbeat(hub.registry, full=self.lost, leaving=hub.liveness.leaving):
                    # This process's counts were gone: its users may have been told they left.
                    hub.spawn(hub.liveness.sync(hub.registry.online_user_ids()))
                await hub.liveness.reap()
                sends = await _announcements_due()
                if sends:
                    await publish.send(sends)
                if now - last_sweep > SWEEP_EVERY:
                    last_sweep = now
                    if await hub.presence.may_sweep(SWEEP_EVERY):
                        hub.spawn(hub.liveness.sweep())
                if self.lost or now - last_refresh > _GROUP_REFRESH:
                    await hub.layer.group_add(stream_group(), hub.channel)
                    last_refresh = now
                    if self.lost:
                        log.warning("relay hub is back on the channel layer")
                    self.lost = False
                if now - last_trim > _TRIM_EVERY:
                    last_trim = now
                    await _trim(time.time() - settings.RELAY_STREAM_RETENTION)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.mark_lost(exc)

    async def _close_idle_anonymous(self, now):
        idle = settings.RELAY_ANONYMOUS_IDLE
        for sockets in list(self.hub.registry.anonymous.values()):
            for session in [c for c in sockets if now - c.last_frame > idle]:
                await session.close_with(CLOSE_IDLE_ANONYMOUS)
