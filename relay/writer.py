"""Store `sendmessage` frames in batches, so a busy socket is not limited by one
database round trip per message.

Handled one by one, a message costs a thread hop, a transaction and three or four
queries, and a socket's next frame waits for all of it: one member sending 100
messages a second fell behind by seconds. Here every `sendmessage` frame of the
process goes into one queue. A single writer task takes everything queued (up to
`MAX_BATCH`), stores it with `groups.messaging.send_messages` (one thread hop, one
transaction, the rows written together by `relay.stream.numbering.insert_in_order`),
sends the stored messages' events, and answers each frame. While one batch is
being stored the next one gathers, so batches grow with the load and an idle
server still stores a lone message at once.

Messages are stored and relayed in the order their frames arrived, so ids and
live events keep each socket's order.
"""

import asyncio
import collections
import logging
import weakref

from config.batching import Batched
from groups import messaging
from relay.db import pooled
from relay.stream import publish

log = logging.getLogger("kirimin.relay")

MAX_BATCH = 500


class MessageWriter:
    def __init__(self):
        self._batches = Batched(self._store, name="relay-message-writer", limit=MAX_BATCH)

    def submit(self, user, data, outcome) -> asyncio.Future:
        """Queue a validated `sendmessage` frame; the future resolves to the new message's id,
        or raises the `KiriminError` that refused it (or the error that broke its batch).
        An event that could not be relayed counts in the frame's `outcome`."""
        request = (user, data["message"], data.get("groupid"), data.get("to"))
        return self._batches.submit((request, outcome))

    async def _store(self, items):
        requests = [request for request, _ in items]
        try:
            results, collected = await _store_in_thread(requests)
        except Exception:
            # The batch rolled back as a whole (say, a group deleted under it): store each
            # message on its own, so only the ones that really fail are refused.
            log.warning("relay: a batch of %d messages failed; storing them one by one", len(requests),
                        exc_info=True)
            collected, results = [], []
            for request in requests:
                try:
                    stored, sends = await _store_in_thread([request])
                except Exception as exc:
                    results.append(exc)
                else:
                    results.extend(stored)
                    collected.extend(sends)
        sends = collections.defaultdict(list)
        for send, args in collected:  # each message's entry, published after commit
            sends[getattr(args[0], "message_id", None) if args else None].append((send, args))
        stored = [(result, outcome) for result, (_, outcome) in zip(results, items, strict=True)
                  if not isinstance(result, BaseException)]
        # Every stored message's event, in order, in one go (one pipeline on the pub/sub layer);
        # then anything else the batch committed (today nothing), counted against no frame.
        failed = await publish.send_many([sends.pop(result.pk, []) for result, _ in stored])
        for (_, outcome), failures in zip(stored, failed, strict=True):
            if failures and outcome is not None:
                outcome.failed += failures
        await publish.send([send for rest in sends.values() for send in rest])
        return [result if isinstance(result, BaseException) else result.pk for result in results]


def _send_messages(requests):
    """The batch's results and the sends of the events it committed (`publish.take`)."""
    try:
        return messaging.send_messages(requests), publish.take()
    except Exception:
        publish.take()  # rolled back: nothing committed, nothing to send
        raise


_store_in_thread = pooled(_send_messages)
_writers = weakref.WeakKeyDictionary()


def get_writer() -> MessageWriter:
    """The writer of the running event loop."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = MessageWriter()
    return writer
