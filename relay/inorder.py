"""The stream taken strictly in order, whatever order its entries arrive in.

Entries come over the channel layer: two processes may publish in another order
than they committed, and a Redis outage loses some. `InOrder` applies each entry
once, at its position: one that comes early waits (`ahead`) while the ones
before it are read back from the database; one that comes twice is dropped. A
connecting socket `reach`es a position before it goes live.
"""

import asyncio
import logging

from django.conf import settings

log = logging.getLogger("kirimin.relay")


class InOrder:
    """Positions applied one by one: `apply(entry)` is called for each, in order, exactly once.

    `read(after, upto)` reads entries back from the stream; `applying()` is the async
    context in which entries read back are applied (the hub's pass: one at a time, then
    the writes go out)."""

    def __init__(self, apply, read, applying):
        self.position = None  # the newest position applied
        self.ahead = {}  # position -> entry that came before the ones before it
        self.fills = 0  # how many times entries were read back
        self._apply, self._read, self._applying = apply, read, applying
        self._fill_target = 0  # read the stream back up to here
        self._filling = None
        self._waiters = []  # (position, future) of sockets waiting to get there

    def take(self, entry):
        seq = entry["s"]
        if seq <= self.position:
            return  # had it already (read back, or published twice)
        if seq != self.position + 1:
            self.ahead[seq] = entry
            self.fill_up_to(seq - 1)
            return
        self._step(entry)
        self.skip_to(self.position)
        if self.ahead and min(self.ahead) <= self.position:
            self.ahead = {s: e for s, e in self.ahead.items() if s > self.position}

    def skip_to(self, position):
        """Move on to `position` (what lies before it is gone), then apply what waited beyond it."""
        self.position = max(self.position, position)
        while (following := self.ahead.pop(self.position + 1, None)) is not None:
            self._step(following)

    def _step(self, entry):
        self.position = entry["s"]
        self._apply(entry)
        if self._waiters:
            for position, future in self._waiters:
                if position <= self.position and not future.done():
                    future.set_result(None)

    async def reach(self, position, timeout):
        """Wait until the stream is applied up to `position`; TimeoutError if it cannot get there."""
        if self.position >= position:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((position, future))
        self.fill_up_to(position)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            if not future.done():
                future.cancel()
            self._waiters = [(p, f) for p, f in self._waiters if not f.done()]

    def fill_up_to(self, position):
        """Read the stream back up to `position`, unless the entries arrive live first."""
        self._fill_target = max(self._fill_target, position)
        if self._filling is None and self.position < self._fill_target:
            self._filling = asyncio.create_task(self._fill(), name="relay-hub-fill")

    async def stop(self):
        if self._filling is not None:
            self._filling.cancel()
            await asyncio.gather(self._filling, return_exceptions=True)

    async def _fill(self):
        try:
            await asyncio.sleep(settings.RELAY_STREAM_GAP_WAIT)  # a missing entry is usually just behind
            while self.position < self._fill_target:
                try:
                    page = await self._read(self.position, self._fill_target)
                except Exception:
                    log.warning("relay hub could not read the stream back; trying again", exc_info=True)
                    await asyncio.sleep(1.0)
                    continue
                self.fills += 1
                async with self._applying():
                    if not page:  # trimmed away meanwhile: nothing left to deliver
                        log.warning("relay hub: entries %s..%s are gone from the stream",
                                    self.position + 1, self._fill_target)
                        self.skip_to(min([self._fill_target, *(s - 1 for s in self.ahead)]))
                        continue
                    for entry in page:
                        self.take(entry)
        finally:
            self._filling = None
        if self.position < self._fill_target:
            self.fill_up_to(self._fill_target)
