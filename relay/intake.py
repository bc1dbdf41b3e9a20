"""A frame in: checked (size, rate, JSON, `identifier`, `type`, fields), handed to its
handler (`relay.handlers.DISPATCH`), and answered in order (`relay.acks`)."""

import asyncio
import time

import orjson
from django.conf import settings

from config import metrics
from relay import frames, handlers
from relay.acks import AckQueue, answer
from relay.errors import ref_of, unknown_ids
from relay.limits import CLOSE_TOO_BIG, TokenBucket, too_big
from relay.stream import events
from relay.stream.publish import RelayOutcome


class Intake:
    def __init__(self, session):
        self.session = session
        self.max_bytes = settings.RELAY_MAX_FRAME_BYTES
        self.bucket = TokenBucket(settings.RELAY_RATE, settings.RELAY_BURST)
        self.acks = AckQueue(session)

    async def receive(self, message):
        session = self.session
        if session.closed:
            return
        session.last_frame = time.monotonic()
        text = message.get("text")
        if text is None:
            if len(message.get("bytes") or b"") > self.max_bytes:
                await session.close_with(CLOSE_TOO_BIG)
                return
            await session.reply(events.error("invalid_json", "Binary frames are not supported: send JSON text."))
            return
        if too_big(text, self.max_bytes):
            await session.close_with(CLOSE_TOO_BIG)
            return
        if not self.bucket.take():
            metrics.RATE_LIMITED.inc()
            await session.reply(events.error("rate_limited", "Too many frames: slow down.", ref=ref_of(text)))
            return
        try:
            payload = orjson.loads(text)
        except orjson.JSONDecodeError:
            await session.reply(events.error("invalid_json", "The frame is not valid JSON."))
            return
        if not isinstance(payload, dict):
            await session.reply(events.error("invalid_frame", "A frame must be a JSON object.",
                                             details={"non_field_errors": ["Expected a JSON object."]}))
            return
        ref = payload.get("ref")
        if ref is not None and not (isinstance(ref, str) and len(ref) <= 64):
            await session.reply(events.error("invalid_frame", "`ref` must be a string of at most 64 characters.",
                                             details={"ref": ["Must be a string of at most 64 characters."]}))
            return
        await self._dispatch(payload, ref)

    async def _dispatch(self, payload, ref):
        session = self.session
        if payload.get("identifier") != events.IDENTIFIER:
            await session.reply(events.error("invalid_identifier", 'Frames must carry "identifier": "kirimin".',
                                             ref=ref))
            return
        type_ = payload.get("type")
        route = handlers.DISPATCH.get(type_) if isinstance(type_, str) else None
        metrics.FRAMES_IN.labels(type_ if route is not None else "other").inc()  # only known names: few labels
        if route is None:
            await session.reply(events.error("unknown_type", f"Unknown frame type {str(type_)[:40]!r}.", ref=ref))
            return
        if route.signed_in and session.user is None:
            await session.reply(events.error("unauthorized", "Sign in first (an `auth` frame).", ref=ref))
            return
        data, errors = frames.validate(route.serializer, payload)
        if errors is not None:
            await session.reply(unknown_ids(errors, ref)
                                or events.error("invalid_frame", "Some fields are invalid.", ref=ref, details=errors))
            return
        if not route.pipelined or self.acks.full:
            # Frames with other effects wait for the pipelined ones before them (a `leave`
            # after a `sendmessage` must not overtake it), and so does a full pipeline.
            await self.acks.drain()
        outcome = RelayOutcome()
        if route.pipelined:  # answered in order by the ack queue; the socket reads on
            self.acks.add(asyncio.ensure_future(route.handler(session, data, outcome)), type_, ref, outcome)
            return
        result = await answer(session, route.handler(session, data, outcome), type_, ref, outcome)
        if result is not None:
            await session.reply(result)
