"""Store `sendmessage` frames in batches, so a busy socket is not limited by one
database round trip per message.

Handled one by one, a message costs a thread hop, a transaction and three or four
queries, and a socket's next frame waits for all of it: one member sending 100
messages a second fell behind by seconds. Here every `sendmessage` frame of the
process goes into one queue. A single writer task takes everything queued (up to
`MAX_BATCH`), stores it with `groups.actions.send_messages` (one thread hop, one
transaction, one INSERT), sends each stored message's event, and answers each
frame. While one batch is being stored the next one gathers, so batches grow
with the load and an idle server still stores a lone message at once.

Messages are stored and relayed in the order their frames arrived, so ids and
live events keep each socket's order.
"""

import asyncio
import collections
import logging
import weakref

from groups import actions
from relay.db import pooled
from relay.notify import deferred_sends, run_deferred_many

log = logging.getLogger("kirimin.relay")

MAX_BATCH = 500


class Stored:
    """What a sender learns about its message: the id, and whether its event reached the layer."""

    __slots__ = ("id", "relayed")

    def __init__(self, id, relayed):
        self.id, self.relayed = id, relayed


class MessageWriter:
    def __init__(self):
        self.queue = collections.deque()
        self._wakeup = asyncio.Event()
        self._task = None

    def submit(self, user, data) -> asyncio.Future:
        """Queue a validated `sendmessage` frame; the future resolves to `Stored`, or raises
        the `KiriminError` that refused the message (or the error that broke its batch)."""
        future = asyncio.get_running_loop().create_future()
        self.queue.append(((user, data["message"], data.get("groupid"), data.get("to")), future))
        self._wakeup.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="relay-message-writer")
        return future

    async def _run(self):
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self.queue:
                batch = [self.queue.popleft() for _ in range(min(len(self.queue), MAX_BATCH))]
                try:
                    await self._store([request for request, _ in batch], [future for _, future in batch])
                except Exception as exc:  # never leave a sender waiting
                    log.exception("relay: storing a batch of %d messages failed", len(batch))
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)

    async def _store(self, requests, futures):
        collected = []
        try:
            results = await _store_in_thread(requests, collected)
        except Exception:
            # The batch rolled back as a whole (say, a group deleted under it): store each
            # message on its own, so only the ones that really fail are refused.
            log.warning("relay: a batch of %d messages failed; storing them one by one", len(requests),
                        exc_info=True)
            collected = []
            results = []
            for request in requests:
                try:
                    results.extend(await _store_in_thread([request], collected))
                except Exception as exc:
                    results.append(exc)
        sends = collections.defaultdict(list)
        for entry in collected:
            sends[entry[2].get("message_id")].append(entry)
        stored = [(result, future) for result, future in zip(results, futures, strict=True)
                  if not isinstance(result, BaseException)]
        # Every stored message's event, in order, in one go (one pipeline on the pub/sub layer).
        failed = await run_deferred_many([sends.pop(result.pk, []) for result, _ in stored])
        for result, future in zip(results, futures, strict=True):
            if isinstance(result, BaseException) and not future.done():
                future.set_exception(result)
        for (result, future), failures in zip(stored, failed, strict=True):
            if not future.done():
                future.set_result(Stored(result.pk, relayed=not failures))


def _send_messages(requests, collected):
    token = deferred_sends.set(collected)
    try:
        return actions.send_messages(requests)
    finally:
        deferred_sends.reset(token)


_store_in_thread = pooled(_send_messages)
_writers = weakref.WeakKeyDictionary()


def get_writer() -> MessageWriter:
    """The writer of the running event loop."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = MessageWriter()
    return writer

