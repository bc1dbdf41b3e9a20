"""Live presence from the hub's side: when to tell a user's friends and co-members.

A user's first socket on this process syncs what they were told (`groups.presence.sync`:
online, unless they were still told so). When their last socket here closes, the sync
waits `RELAY_PRESENCE_DEBOUNCE` seconds: a socket of theirs that opens meanwhile, here
or on another process, leaves nothing to tell, so a quick reconnect does not flap.
The users of a process that crashed or stopped are synced by whichever live process
reaps it first (`relay.upkeep`, within `RELAY_PRESENCE_TTL`), and those told online
with no socket anywhere (every process was down) when a hub starts.
"""

import asyncio
import logging

from django.conf import settings
from django.utils.timezone import now

from groups import presence
from relay.db import pooled
from relay.stream import publish

log = logging.getLogger("kirimin.relay")


def _sync_and_take(user_ids, at):
    presence.sync(user_ids, at=at)
    return publish.take()


def _sweep_and_take():
    presence.sweep()
    return publish.take()


_sync = pooled(_sync_and_take)
_sweep = pooled(_sweep_and_take)


class Liveness:
    def __init__(self, hub):
        self.hub = hub
        self._leaving = {}  # user id -> the debounce task of their last local socket

    def opened(self, user_id):
        """A socket of `user_id` was attached here."""
        if not settings.RELAY_PRESENCE:
            return
        leaving = self._leaving.pop(user_id, None)
        if leaving is not None:
            leaving.cancel()  # back before anyone was told they left: nothing to tell
        elif self.hub.registry.attached(user_id) == 1:
            self.hub.spawn(self.sync([user_id]))

    def closed(self, user_id):
        """A socket of `user_id` was detached here."""
        if not settings.RELAY_PRESENCE:
            return
        if self.hub.registry.local_sockets(user_id) == 0 and user_id not in self._leaving:
            self._leaving[user_id] = self.hub.spawn(self._left(user_id, now()))

    def stop(self):
        for task in self._leaving.values():
            task.cancel()  # the process's end: its users are reaped by another process
        self._leaving.clear()

    async def _left(self, user_id, at):
        await asyncio.sleep(settings.RELAY_PRESENCE_DEBOUNCE)
        self._leaving.pop(user_id, None)
        if self.hub.registry.local_sockets(user_id) == 0:
            await self.sync([user_id], at=at)

    async def sync(self, user_ids, at=None):
        try:
            await publish.send(await _sync(user_ids, at))
        except Exception:  # best effort: the next change of theirs syncs again
            log.warning("relay could not sync the presence of %d users", len(user_ids), exc_info=True)

    async def reap(self):
        """Sync the users of processes gone since the last reap (from the upkeep)."""
        users = await self.hub.presence.reap()
        if users and settings.RELAY_PRESENCE:
            await self.sync(users)

    async def sweep(self):
        if not settings.RELAY_PRESENCE:
            return
        try:
            await publish.send(await _sweep())
        except Exception:
            log.warning("relay could not sweep presence", exc_info=True)
