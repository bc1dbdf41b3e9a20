"""Live presence from the hub's side: when to tell a user's friends and co-members.

A user's first socket on this process syncs what they were told (`groups.presence.sync`:
online, unless they were still told so). When their last socket here closes, the sync
waits `RELAY_PRESENCE_DEBOUNCE` seconds: a socket of theirs that opens meanwhile, here
or on another process, leaves nothing to tell, so a quick reconnect does not flap.
Meanwhile their count here stays in Redis at 0, so that if this process dies before the
sync, whichever live process reaps it (`relay.upkeep`, within `RELAY_PRESENCE_TTL`) syncs
them. Besides, one process every `SWEEP_EVERY` seconds (and each hub when it starts)
syncs everyone told online who has no socket anywhere: what no other path caught.
"""

import asyncio
import logging

from django.conf import settings
from django.utils.timezone import now

from groups import presence
from relay.db import pooled
from relay.stream import publish

log = logging.getLogger("kirimin.relay")

SWEEP_EVERY = 60  # seconds
# First sockets that open within this many seconds of each other are synced together: a burst of
# connections (a deploy, a crash elsewhere) costs a handful of queries, not a handful each.
ARRIVALS_WINDOW = 0.05


def _taking(fn):
    """`fn` off the loop, returning the sends of what it committed (`publish.take`), even if it
    failed after some of it committed."""

    def run(*args, **kwargs):
        try:
            fn(*args, **kwargs)
        finally:
            sends = publish.take()
        return sends

    return pooled(run)


_sync = _taking(presence.sync)
_sweep = _taking(presence.sweep)


class Liveness:
    def __init__(self, hub):
        self.hub = hub
        self.leaving = {}  # user id -> the debounce task of their last local socket
        self.stopped = False
        self._arriving = set()  # users whose first socket here opened, to sync together
        self._arrivals = None  # the task that syncs them, once the window has passed

    @property
    def on(self):
        return settings.RELAY_PRESENCE and not self.stopped

    def opened(self, user_id, first):
        """A socket of `user_id` was attached here; `first`: no other of theirs was."""
        if not self.on:
            return
        leaving = self.leaving.pop(user_id, None)
        if leaving is not None:
            leaving.cancel()
        if first:
            # Told online, unless still told so (a departure cancelled); another process may
            # also have told them gone meanwhile. Synced with the others arriving now.
            self._arriving.add(user_id)
            if self._arrivals is None:
                self._arrivals = self.hub.spawn(self._sync_arrivals())

    async def _sync_arrivals(self):
        try:
            await asyncio.sleep(ARRIVALS_WINDOW)
        finally:
            self._arrivals = None
        users, self._arriving = sorted(self._arriving), set()
        if users:
            await self.sync(users)

    def closed(self, user_id):
        """A socket of `user_id` was detached here (or one admitted never attached)."""
        if self.on and self.hub.registry.local_sockets(user_id) == 0 and user_id not in self.leaving:
            self.leaving[user_id] = self.hub.spawn(self._left(user_id, now()))

    def stop(self):
        self.stopped = True
        for task in self.leaving.values():
            task.cancel()  # the process's end: its users are reaped by another process
        self.leaving.clear()

    async def _left(self, user_id, at):
        try:
            await asyncio.sleep(settings.RELAY_PRESENCE_DEBOUNCE)
        finally:
            mine = self.leaving.get(user_id) is asyncio.current_task()
            if mine:
                del self.leaving[user_id]
        if mine and self.hub.registry.local_sockets(user_id) == 0:
            # The departure stops counting before it is told: whoever gets the `presence` frame
            # and then asks REST hears the same.
            await self.hub.presence.forget(user_id)
            await self.sync([user_id], at=at)

    async def sync(self, user_ids, at=None):
        try:
            await publish.send(await _sync(user_ids, at=at))
        except Exception:  # best effort: the next change of theirs, or a sweep, syncs again
            log.warning("relay could not sync the presence of %d users", len(user_ids), exc_info=True)

    async def reap(self):
        """Sync the users of processes gone since the last reap (from the upkeep)."""
        users = await self.hub.presence.reap()
        if users and self.on:
            await self.sync(users)

    async def sweep(self):
        if not self.on:
            return
        try:
            await publish.send(await _sweep())
        except Exception:
            log.warning("relay could not sweep presence", exc_info=True)
