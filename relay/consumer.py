"""The WebSocket consumer at /ws/: authenticate, validate, dispatch, deliver.

It holds no business rules: each frame is validated by the serializer its
`type` maps to in `relay.handlers.DISPATCH`, and the handler calls a domain
action. Events reach the socket through the process hub (`relay.hub`), already
encoded, and are written as they are.
"""

import asyncio
import logging
import time
from urllib.parse import parse_qs

import orjson
from channels.consumer import AsyncConsumer
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from django.conf import settings

from config.errors import KiriminError
from config.redis_clients import REDIS_DOWN
from relay import auth, fastpath, frames, handlers
from relay.hub import get_hub
from relay.stream import events, read
from relay.stream.publish import RelayOutcome, relay_outcome
from relay.stream.topics import group_topic, user_topic

log = logging.getLogger("kirimin.relay")

CLOSE_TOO_BIG = 1009
CLOSE_TOO_MANY_SOCKETS = 4429  # for this user, or anonymous ones from this address
# Pipelined frames (sendmessage) a socket may have waiting for their ack before it stops reading.
MAX_PIPELINED = 256
# How long a connecting socket waits for its process to reach the stream position it was read at.
CATCH_UP_TIMEOUT = 10.0

# Domain error code -> socket error code, where they differ (SPEC §6 rule 6).
_SOCKET_CODES = {
    "validation_error": "invalid_frame",
    "not_authenticated": "unauthorized",
    "invalid_token": "unauthorized",
    "throttled": "rate_limited",
}


def socket_error(exc: KiriminError, ref=None):
    """The `error` frame for a domain error: its code and sentence, never internals."""
    return events.error(_SOCKET_CODES.get(exc.code, exc.code), str(exc.detail), ref=ref, details=exc.details)


def _ref_of(text):
    """The frame's `ref` if it has a valid one, so even a refused frame gets its answer matched."""
    try:
        ref = orjson.loads(text).get("ref")
    except (orjson.JSONDecodeError, AttributeError):
        return None
    return ref if isinstance(ref, str) and len(ref) <= 64 else None


class RelayConsumer(AsyncConsumer):
    """One client socket."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.hub = None
        self.user = None
        self.user_id = None
        self.client_id = None
        self.topics = set()  # every topic this socket is in (kept by the hub)
        self.member_topics = set()  # group topics from membership
        self.subscriptions = set()  # topics from `subscribe`
        self.closed = False
        self.ready = False  # the hub writes to it only once it has caught up (`Hub.catch_up`)
        self.position = 0  # the stream position its state was read at, until it is ready
        self.raw_send = None
        self.max_bytes = settings.RELAY_MAX_FRAME_BYTES
        self.rate = settings.RELAY_RATE
        self.burst = settings.RELAY_BURST
        self.tokens = float(self.burst)
        self.last_refill = time.monotonic()
        self.last_typing = 0.0
        self.last_frame = time.monotonic()  # when the client last sent a frame (idle anonymous sockets close)
        self.address = None  # the client's address, for the anonymous cap
        self.acks = []  # (task, type, ref, outcome) of pipelined frames, in order (at most MAX_PIPELINED)
        self.ack_task = None

    async def __call__(self, scope, receive, send):
        # No per-socket layer channel: the hub receives for the whole process.
        self.scope = scope
        self.base_send = send
        self.raw_send = fastpath.raw_sender(send) if settings.RELAY_FAST_WRITES else None
        try:
            # One source, so no `await_many_dispatch`: it keeps a task per socket waiting
            # on `receive` and makes a new one for every frame.
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message):
        # Channels' default also closes old DB connections before every message;
        # handlers that touch the database do that in their own thread instead.
        kind = message["type"]
        if kind == "websocket.receive":
            await self.websocket_receive(message)
        elif kind == "websocket.connect":
            await self.websocket_connect(message)
        elif kind == "websocket.disconnect":
            await self.websocket_disconnect(message)

    # --- connection lifecycle --------------------------------------------------------------
    async def websocket_connect(self, message):
        await self.base_send({"type": "websocket.accept"})
        try:
            self.hub = await get_hub()
            self.client_id = self.hub.new_client_id()
            user_id = await self._handshake_user_id()
            if user_id is not None:
                snapshot = await self.sign_in(user_id)
                if snapshot is None:
                    return
            else:
                self.address = _client_address(self.scope)
                if self.hub.anonymous_from(self.address) >= settings.RELAY_MAX_ANONYMOUS_PER_IP:
                    await self.close_with(CLOSE_TOO_MANY_SOCKETS)
                    return
                self.position = self.hub.position
                await self.hub.attach(self, ())
                snapshot = (self.position, 0, None, {})
            await self._write(events.encode(await self.connection_frame(seq=snapshot[0], streams=snapshot[3])))
            await self._replay(*snapshot)
            await self.hub.catch_up(self, CATCH_UP_TIMEOUT)
        except auth.SocketAuthError as exc:
            await self.close_with(exc.code)
            return
        except (*REDIS_DOWN, TimeoutError) as exc:  # the channel layer is down: come back shortly
            log.warning("relay: connect refused while the channel layer is down: %r", exc)
            await self.close_with(auth.TRY_AGAIN_LATER)
            return
        except Exception:
            log.exception("relay: connect failed")
            await self.close_with(1011)
            return

    async def websocket_disconnect(self, message):
        self.closed = True
        if self.hub is not None:
            await self.hub.detach(self)
        raise StopConsumer()

    async def _handshake_user_id(self):
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        ticket = params.get("id", [None])[0]
        if ticket is not None:
            return await auth.user_id_from_ticket(ticket)
        token = auth.bearer_token(self.scope)
        if token is not None:
            return await auth.user_id_from_access_token(token)
        return None

    async def sign_in(self, user_id):
        """Read the user, their groups and the stream's position in one snapshot, and attach the
        socket to their topics (not live yet: `Hub.catch_up` takes it from that position).
        Returns the snapshot (position, trimmed, (user, group ids), stream offsets), or None if
        the socket was closed instead."""
        snapshot = await _snapshot(user_id)
        position, _, (user, group_ids), _ = snapshot
        if not await self.hub.admit(user.pk, settings.RELAY_MAX_SOCKETS_PER_USER):
            await self.close_with(CLOSE_TOO_MANY_SOCKETS)
            return None
        self.user, self.user_id = user, user.pk
        self.ready, self.position = False, position
        self.member_topics = {group_topic(g) for g in group_ids}
        await self.hub.attach(self, [user_topic(user.pk), *self.member_topics, *self.subscriptions])
        return snapshot

    def group_ids(self):
        """The user's groups, kept live by the stream's membership changes."""
        return sorted(int(topic.removeprefix("group.")) for topic in self.member_topics)

    async def connection_frame(self, ref=None, *, seq=None, streams=None):
        groups = self.group_ids() if self.user else []
        frame = events.connection(client_id=self.client_id, user=events.user_shape(self.user) if self.user else None,
                                  groups=groups)
        if seq is not None:  # where this socket starts in the stream, and its streams' offsets there
            frame["seq"] = seq
            frame["streams"] = streams
        if ref is not None:
            frame["ref"] = ref
        return frame

    async def _replay(self, position, trimmed, member, streams):
        """`resume=<position>` replays every entry the user was entitled to after it; the legacy
        `since=<message id>` replays the messages with a larger id. Both up to `position`, where
        `Hub.catch_up` takes over."""
        params = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        resume, since = params.get("resume", [None])[0], params.get("since", [None])[0]
        if self.user is None or (resume is None and since is None):
            return
        name, raw = ("resume", resume) if resume is not None else ("since", since)
        # isdigit() alone accepts "²" and other Unicode digits that int() refuses.
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            what = "a stream position" if name == "resume" else "a message id"
            await self._write(events.encode(events.error(
                "invalid_frame", f"`{name}` must be {what}.", details={name: ["Must be an integer."]})))
            return
        group_ids = member[1]
        if name == "resume":
            after = min(int(raw), position)
            if after < trimmed:
                await self._write(events.encode(events.resync(
                    "retention", message="That position is older than the stream keeps: reload through REST.",
                    seq=position)))
                return
            await self._replay_entries(group_ids, after, position, trimmed)
            return
        since = int(raw)
        after, oldest = await _legacy_start(since, position)
        if oldest is None or since + 1 < oldest:  # messages from before the stream began
            while True:
                page = await handlers.replay_messages(self.user, since, until=oldest)
                await self._write_many([text for _, text in page])
                if not page:
                    break
                since = page[-1][0]
        await self._replay_entries(group_ids, after, position, trimmed, only_messages=True)

    async def _replay_entries(self, group_ids, after, position, trimmed, only_messages=False):
        while after < position:  # in pages, so a long absence is replayed without holding it all
            page, after = await _replay_page(self.user_id, group_ids, after, position, trimmed)
            texts = [text for _, text in page]
            if only_messages:
                texts = await handlers.existing_messages(texts)
            await self._write_many(texts)

    # --- outgoing ------------------------------------------------------------------------------
    async def push(self, text):
        """Deliver an encoded event (called by the hub for sockets it cannot write to directly)."""
        await self._write(text)

    async def _write(self, text):
        await self._write_many((text,))

    async def _write_many(self, texts):
        """Write replies in order: in one write to the transport where the server allows
        it (`fastpath`), else one ASGI send each (also when the client stopped reading:
        the server's own flow control, as ever, decides what happens then)."""
        if self.closed or not texts:
            return
        if self.raw_send is not None:
            frames = [(fastpath.frame(text), text) for text in texts]
            data = frames[0][0] if len(frames) == 1 else b"".join(f for f, _ in frames)
            if self.raw_send(data, frames) == fastpath.WRITTEN:
                return
        try:
            for text in texts:
                await self.base_send({"type": "websocket.send", "text": text})
        except Exception:  # the peer went away under us; disconnect follows
            self.closed = True

    async def reply(self, frame):
        await self._write(events.encode(frame))

    async def close_with(self, code):
        if self.closed:
            return
        self.closed = True
        # Off the hub (and presence) first: the close frame may wait behind a buffer the
        # client is not reading (uvicorn waits for the transport to drain; its ping
        # timeout ends such a connection), and this socket is gone for us already.
        if self.hub is not None:
            await self.hub.detach(self)
        try:
            if not fastpath.close_directly(self.base_send, code):
                await self.base_send({"type": "websocket.close", "code": code})
        except Exception:
            log.warning("relay: could not close a socket with %s", code, exc_info=True)

    # --- incoming ---------------------------------------------------------------------------------
    def _take_token(self):
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.last_refill) * self.rate)
        self.last_refill = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    def allow_typing(self):
        """At most one typing indicator every 300 ms per socket."""
        now = time.monotonic()
        if now - self.last_typing < 0.3:
            return False
        self.last_typing = now
        return True

    async def websocket_receive(self, message):
        if self.closed:
            return
        self.last_frame = time.monotonic()
        text = message.get("text")
        if text is None:
            if len(message.get("bytes") or b"") > self.max_bytes:
                await self.close_with(CLOSE_TOO_BIG)
                return
            await self.reply(events.error("invalid_json", "Binary frames are not supported: send JSON text."))
            return
        if len(text) > self.max_bytes or (len(text) * 4 > self.max_bytes and len(text.encode()) > self.max_bytes):
            await self.close_with(CLOSE_TOO_BIG)
            return
        if not self._take_token():
            await self.reply(events.error("rate_limited", "Too many frames: slow down.", ref=_ref_of(text)))
            return
        try:
            payload = orjson.loads(text)
        except orjson.JSONDecodeError:
            await self.reply(events.error("invalid_json", "The frame is not valid JSON."))
            return
        if not isinstance(payload, dict):
            await self.reply(events.error("invalid_frame", "A frame must be a JSON object.",
                                          details={"non_field_errors": ["Expected a JSON object."]}))
            return
        ref = payload.get("ref")
        if ref is not None and not (isinstance(ref, str) and len(ref) <= 64):
            await self.reply(events.error("invalid_frame", "`ref` must be a string of at most 64 characters.",
                                          details={"ref": ["Must be a string of at most 64 characters."]}))
            return
        await self._dispatch_frame(payload, ref)

    async def _answer(self, pending, type_, ref, outcome):
        """The answer to a frame once its handler is done: the result (an `ack` marked
        `relayed: false` if an event could not be sent) or the error, with `ref`; None
        when there is nothing to send."""
        try:
            result = await pending
        except auth.SocketAuthError as exc:
            await self.close_with(exc.code)
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

    async def _send_acks(self):
        """Answer pipelined frames in the order they came, as each one completes."""
        try:
            while self.acks:
                texts = []
                while True:  # this answer and every later one already done: one write for all
                    try:
                        answer = await self._answer(*self.acks[0])
                    finally:
                        del self.acks[0]
                    if answer is not None:
                        texts.append(events.encode(answer))
                    if not (self.acks and self.acks[0][0].done()):
                        break
                await self._write_many(texts)
        finally:
            self.ack_task = None

    async def _drain_acks(self):
        if self.ack_task is not None:
            await asyncio.shield(self.ack_task)

    async def _dispatch_frame(self, payload, ref):
        if payload.get("identifier") != events.IDENTIFIER:
            await self.reply(events.error("invalid_identifier", 'Frames must carry "identifier": "kirimin".', ref=ref))
            return
        type_ = payload.get("type")
        route = handlers.DISPATCH.get(type_) if isinstance(type_, str) else None
        if route is None:
            await self.reply(events.error("unknown_type", f"Unknown frame type {str(type_)[:40]!r}.", ref=ref))
            return
        if route.signed_in and self.user is None:
            await self.reply(events.error("unauthorized", "Sign in first (an `auth` frame).", ref=ref))
            return
        data, errors = frames.validate(route.serializer, payload)
        if errors is not None:
            await self.reply(events.error("invalid_frame", "Some fields are invalid.", ref=ref, details=errors))
            return
        if not route.pipelined or len(self.acks) >= MAX_PIPELINED:
            # Frames with other effects wait for the pipelined ones before them (a `leave`
            # after a `sendmessage` must not overtake it), and so does a full pipeline.
            await self._drain_acks()
        outcome = RelayOutcome()
        token = relay_outcome.set(outcome)
        try:
            if route.pipelined:  # answered in order by `_send_acks`; the socket reads on
                # The task copies the context: the events its handler sends count in `outcome`.
                self.acks.append((asyncio.ensure_future(route.handler(self, data)), type_, ref, outcome))
                if self.ack_task is None:
                    self.ack_task = asyncio.create_task(self._send_acks())
                return
            answer = await self._answer(route.handler(self, data), type_, ref, outcome)
        finally:
            relay_outcome.reset(token)
        if answer is not None:
            await self.reply(answer)


def _topics(member):
    user, group_ids = member
    return [user_topic(user.pk), *(group_topic(g) for g in group_ids)]


_snapshot_in_thread = database_sync_to_async(read.snapshot)


async def _snapshot(user_id):
    return await _snapshot_in_thread(lambda: auth.load_member(user_id), _topics)


_replay_page = database_sync_to_async(lambda user_id, group_ids, after, upto, trimmed: read.replay(
    user_id, group_ids, after, upto, trimmed=trimmed))
_legacy_start = database_sync_to_async(read.legacy_start)


def _client_address(scope):
    """The client's address as the throttles see it: the peer, or the `NUM_PROXIES`-th hop of
    `X-Forwarded-For` counted from the right when the app runs behind that many proxies."""
    peer = (scope.get("client") or ("", 0))[0]
    hops = settings.REST_FRAMEWORK.get("NUM_PROXIES") or 0
    if hops:
        for name, value in scope.get("headers", ()):
            if name == b"x-forwarded-for":
                addresses = [a.strip() for a in value.decode("latin-1").split(",") if a.strip()]
                if addresses:
                    return addresses[-min(hops, len(addresses))]
    return peer
