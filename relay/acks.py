"""Answers to a socket's frames, in the order the frames came.

A pipelined frame (`sendmessage`, stored by the process's message writer) is answered
when its batch is stored, while the socket reads on; every other frame waits for the
pipelined ones before it (a `leave` after a `sendmessage` must not overtake it).
"""

import asyncio
import logging

from config.errors import KiriminError
from relay import auth
from relay.errors import socket_error
from relay.stream import events

log = logging.getLogger("kirimin.relay")

# Pipelined frames a socket may have waiting for their answer before it stops reading.
MAX_PIPELINED = 256


async def answer(session, pending, type_, ref, outcome):
    """The answer to a frame once its handler is done: the result (an `ack` marked
    `relayed: false` if an event could not be sent) or the error, with `ref`; None when
    there is nothing to send."""
    try:
        result = await pending
    except auth.SocketAuthError as exc:
        await session.close_with(exc.code)
        return None
    except KiriminError as exc:
        return socket_error(exc, ref)
    except Exception:
        log.exception("relay: %s handler failed", type_)
        return events.error("server_error", "Something went wrong on our side.", ref=ref)
    if result is not None:
        if outcome.failed and result.get("type") == "ack":
            result["relayed"] = False  # stored, but not relayed: a relay outage
        if ref is not None and "ref" not in result:
            result["ref"] = ref
    return result


class AckQueue:
    def __init__(self, session):
        self.session = session
        self._pending = []  # (task, type, ref, outcome), in the frames' order
        self._task = None

    @property
    def full(self):
        return len(self._pending) >= MAX_PIPELINED

    def add(self, task, type_, ref, outcome):
        self._pending.append((task, type_, ref, outcome))
        if self._task is None:
            self._task = asyncio.create_task(self._send())

    async def drain(self):
        """Wait until every pipelined frame so far is answered."""
        if self._task is not None:
            await asyncio.shield(self._task)

    async def _send(self):
        try:
            while self._pending:
                texts = []
                while True:  # this answer and every later one already done: one write for all
                    try:
                        result = await answer(self.session, *self._pending[0])
                    finally:
                        del self._pending[0]
                    if result is not None:
                        texts.append(events.encode(result))
                    if not (self._pending and self._pending[0][0].done()):
                        break
                await self.session.write_many(texts)
        finally:
            self._task = None
