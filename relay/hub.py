"""The process-local end of the relay: one hub per process (per event loop).

Every process's hub listens on one layer group (`relay.stream.topics.stream_group()`, named after the database)
and gets every entry of the numbered stream once, whatever its audience. It
applies them strictly in stream order: an entry that arrives before the ones
before it (a Redis outage lost some, or two processes published in the other
order than they committed) waits while the hub reads the missing ones back from
the database (`relay.stream.read`); one that arrives twice is dropped. Besides,
every `RELAY_STREAM_POLL` seconds the hub compares its position with the
stream's head, so an entry that was lost with nothing after it is read back too.

Applying an entry first makes its membership changes (a socket joins or leaves a
group's topic, is closed), then writes its text to every local socket on one of
its topics: the same pre-encoded frame bytes for all of them. A socket that is
still connecting is left out: it catches up from `recent` (the entries the hub
applied last) before it goes live (`catch_up`), so nothing falls in between.

When entries arrive faster than the sockets can be written (a busy group), the
hub takes every message that has arrived since its last pass and writes each
socket's share in one `transport.write`.

Layer messages the hub understands:
- relay.entry  {s: position, text, t: [topics], o: [membership changes]} (relay.stream.publish)
- relay.event  {t: [topics], text, xu?: [user ids]}: not numbered (typing)
- relay.client {c: [client ids], text}
"""

import asyncio
import collections
import itertools
import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from relay import fastpath
from relay.stream import presence, read
from relay.stream.topics import group_topic, stream_group, user_topic

log = logging.getLogger("kirimin.relay")

# A client that stops reading is closed with this code once its send buffer passes
# RELAY_MAX_SEND_BUFFER: it has missed events and should reconnect and resume.
CLOSE_SLOW_CONSUMER = 4008
# An anonymous socket that sent no frame for RELAY_ANONYMOUS_IDLE seconds.
CLOSE_IDLE_ANONYMOUS = 4408
_GROUP_REFRESH = 3600  # re-add the stream group hourly; layer groups expire after a day
_TRIM_EVERY = 3600

# On Channels' database thread, which closes its connection after each call: a hub's reads are
# small and rare, and must not leave a connection open in every worker thread they land on.
_read_head = database_sync_to_async(read.head)
_read_entries = database_sync_to_async(read.entries)
_trim = database_sync_to_async(read.trim)


class Hub:
    """Local sockets by topic, one layer channel, the stream applied in order."""

    def __init__(self, layer):
        self.layer = layer
        self.channel = None
        self.topics: dict[str, set] = {}
        self.clients: dict[str, object] = {}
        self.anonymous: dict[str, set] = {}  # client address -> its anonymous sockets
        self.joining = collections.Counter()  # user id -> their sockets admitted and not yet attached
        self.position = None  # the newest stream position applied here
        self.ahead = {}  # position -> entry that came before the ones before it
        self.recent = collections.deque()  # at most RELAY_STREAM_RECENT entries and _BYTES of text
        self._recent_bytes = 0
        self._fill_target = 0  # read the stream back up to here
        self._filling = None
        self._waiters = []  # (position, future) of sockets waiting for the hub to get there
        self._pass = asyncio.Lock()  # one pass applies and writes at a time
        self._ids = itertools.count(1)
        self._tasks = []
        self._inbox = []  # layer messages received and not yet handled, in order
        self._mail = asyncio.Event()
        self._out = {}  # fast socket -> [(frame bytes, text)] to write at the end of this pass
        self._pushes = {}  # other socket -> [text] to send through ASGI
        self._to_close = []  # (socket, code) to close once this pass is written
        self._background = set()  # tasks the hub does not wait for (closes, recounts)
        self._lost = False
        self._disconnects = 0  # the layer's count of subscriber breaks already handled
        self.fills = 0  # how many times entries were read back from the database
        self.presence = presence.for_hub()

    # --- lifecycle -----------------------------------------------------------------
    async def start(self):
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(stream_group(), self.channel)
        # Listening first, then the head: whatever commits from here on comes live or is read back.
        self.position, _ = await _read_head()
        self._tasks = [
            asyncio.create_task(self._receive_loop(), name="relay-hub-receive"),
            asyncio.create_task(self._deliver_loop(), name="relay-hub-deliver"),
            asyncio.create_task(self._maintenance_loop(), name="relay-hub-maintenance"),
        ]
        log.info("relay hub started on %s at position %s", self.channel, self.position)

    async def stop(self):
        tasks = self._tasks + ([self._filling] if self._filling else [])
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks = []
        try:
            await self.layer.group_discard(stream_group(), self.channel)
        except Exception:  # shutting down: Redis may already be gone
            pass
        await self.presence.stop()

    def new_client_id(self):
        # The process channel is part of the id, so `to_clients` needs no lookup table.
        return f"{self.channel}#{next(self._ids)}"

    # --- sockets -----------------------------------------------------------------------
    async def admit(self, user_id, cap):
        """Hold a place for one more socket of `user_id` if their sockets on every process stay
        within `cap`; False if not. Counted from here, before any wait, so sockets of one user
        opening at once never all pass the check; `attach` takes the place over."""
        self.joining[user_id] += 1
        try:
            admitted = await self.presence.admit(user_id, self.local_sockets(user_id), cap)
        except BaseException:
            # Failed or cancelled, maybe after the count was raised: write the true one back.
            self._joined(user_id)
            self._spawn(self._recount(user_id))
            raise
        if not admitted:
            self._joined(user_id)
        return admitted

    async def _recount(self, user_id):
        try:
            await self.presence.set_local(user_id, self.local_sockets(user_id))
        except Exception:  # best effort: the next heartbeat rewrites every count
            pass

    def _spawn(self, coroutine):
        task = asyncio.create_task(coroutine)
        self._background.add(task)  # held, so the loop does not drop it half done
        task.add_done_callback(self._background.discard)

    def _joined(self, user_id):
        self.joining[user_id] -= 1
        if self.joining[user_id] <= 0:
            del self.joining[user_id]

    async def attach(self, consumer, topics):
        """Register a socket on `topics` (its user and groups), in the place `admit` held for a
        user's socket. It gets nothing until it is `ready` (see `catch_up`)."""
        self.clients[consumer.client_id] = consumer
        if consumer.user_id is None:
            self.anonymous.setdefault(consumer.address, set()).add(consumer)
        else:
            self._not_anonymous(consumer)
        for topic in topics:
            self._subscribe(consumer, topic)
        if consumer.user_id is not None:
            self._joined(consumer.user_id)
            await self.presence.set_local(consumer.user_id, self.local_sockets(consumer.user_id))

    async def detach(self, consumer):
        self._forget(consumer)
        if consumer.user_id is not None:
            await self.presence.set_local(consumer.user_id, self.local_sockets(consumer.user_id))

    def anonymous_from(self, address):
        return len(self.anonymous.get(address, ()))

    def _not_anonymous(self, consumer):
        sockets = self.anonymous.get(consumer.address)
        if sockets is not None:
            sockets.discard(consumer)
            if not sockets:
                del self.anonymous[consumer.address]

    def _forget(self, consumer):
        self.clients.pop(consumer.client_id, None)
        self._not_anonymous(consumer)
        for topic in list(consumer.topics):
            self._unsubscribe(consumer, topic)

    def local_sockets(self, user_id):
        """The user's sockets on this process, counting those admitted and still signing in."""
        return len(self.topics.get(user_topic(user_id), ())) + self.joining.get(user_id, 0)

    def online_user_ids(self):
        return [int(t[5:]) for t in self.topics if t.startswith("user.")] + list(self.joining)

    async def subscribe(self, consumer, topic):
        self._subscribe(consumer, topic)

    async def unsubscribe(self, consumer, topic):
        self._unsubscribe(consumer, topic)

    def _subscribe(self, consumer, topic):
        consumer.topics.add(topic)
        self.topics.setdefault(topic, set()).add(consumer)

    def _unsubscribe(self, consumer, topic):
        consumer.topics.discard(topic)
        members = self.topics.get(topic)
        if members is not None:
            members.discard(consumer)
            if not members:
                del self.topics[topic]

    async def catch_up(self, consumer, timeout=10.0):
        """Bring a connecting socket from its `position` (where its state was read) to the
        hub's, then make it live; raise TimeoutError if the hub cannot get there in time."""
        await self.reach(consumer.position, timeout)
        while True:
            missed = self._since(consumer.position)
            if missed is None:  # further back than `recent` goes
                missed = await _read_entries(consumer.position, self.position)
            if not missed:
                consumer.ready = True  # no await since `_since`: nothing applied meanwhile
                return
            texts = []
            for entry in missed:
                consumer.position = entry["s"]
                code = None
                for op in entry["o"]:
                    code = _change(consumer, op, self) or code
                if code is not None:
                    await consumer._write_many(texts)
                    await consumer.close_with(code)
                    return
                if entry["text"] and not consumer.topics.isdisjoint(entry["t"]):
                    texts.append(entry["text"])
            await consumer._write_many(texts)
            if consumer.closed:
                return

    def _since(self, position):
        if position >= self.position:
            return []
        if not self.recent or self.recent[0]["s"] > position + 1:
            return None
        return list(itertools.islice(self.recent, position + 1 - self.recent[0]["s"], None))

    async def reach(self, position, timeout):
        """Wait until the hub has applied the stream up to `position`."""
        if self.position >= position:
            return
        future = asyncio.get_running_loop().create_future()
        self._waiters.append((position, future))
        self._fill_up_to(position)
        try:
            await asyncio.wait_for(future, timeout)
        finally:
            if not future.done():
                future.cancel()
            self._waiters = [(p, f) for p, f in self._waiters if not f.done()]

    # --- receiving ---------------------------------------------------------------------
    async def _receive_loop(self):
        delay = 0.1
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._mark_lost(exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            delay = 0.1
            self._inbox.append(message)
            self._mail.set()

    async def _deliver_loop(self):
        # Runs whenever mail arrived; while a pass writes, the receive loop keeps queueing,
        # so the next pass takes everything that came meanwhile in one go.
        while True:
            await self._mail.wait()
            self._mail.clear()
            batch, self._inbox = self._inbox, []
            await self.handle_many(batch)

    async def handle_many(self, messages):
        """Handle layer messages in order; each socket's frames go out in one write at the end."""
        async with self._pass:
            try:
                for message in messages:
                    try:
                        self._handle(message)
                    except Exception:
                        log.exception("relay hub failed to handle %s", message.get("type"))
            finally:
                await self._flush()

    def _handle(self, message):
        kind = message.get("type")
        if kind == "relay.entry":
            self._take(message)
        elif kind == "relay.event":
            consumers = set()
            for topic in message["t"]:
                consumers.update(self.topics.get(topic, ()))
            excluded = message.get("xu") or ()
            self._deliver([c for c in consumers if c.user_id not in excluded], message["text"])
        elif kind == "relay.client":
            self._deliver([self.clients[c] for c in message["c"] if c in self.clients], message["text"])
        elif kind == "healthz.ping":
            pass
        else:
            log.warning("relay hub ignored a %r message", kind)

    # --- the stream, in order ------------------------------------------------------------
    def _take(self, entry):
        seq = entry["s"]
        if seq <= self.position:
            return  # had it already (read back, or published twice)
        if seq != self.position + 1:
            self.ahead[seq] = entry
            self._fill_up_to(seq - 1)
            return
        self._apply(entry)
        self._skip_to(self.position)
        if self.ahead and min(self.ahead) <= self.position:
            self.ahead = {s: e for s, e in self.ahead.items() if s > self.position}

    def _skip_to(self, position):
        self.position = max(self.position, position)
        while (following := self.ahead.pop(self.position + 1, None)) is not None:
            self._apply(following)

    def _apply(self, entry):
        self.position = entry["s"]
        recent = self.recent
        recent.append(entry)
        self._recent_bytes += len(entry["text"])
        while len(recent) > settings.RELAY_STREAM_RECENT or self._recent_bytes > settings.RELAY_STREAM_RECENT_BYTES:
            self._recent_bytes -= len(recent.popleft()["text"])
        for op in entry["o"]:
            for consumer in self._affected(op):
                code = _change(consumer, op, self)
                if code is not None:
                    self._forget(consumer)
                    self._to_close.append((consumer, code))
        if entry["text"]:
            topics = entry["t"]
            if len(topics) == 1:
                consumers = self.topics.get(topics[0], ())
            else:
                consumers = set()
                for topic in topics:
                    consumers.update(self.topics.get(topic, ()))
            self._deliver(consumers, entry["text"])
        if self._waiters:
            for position, future in self._waiters:
                if position <= self.position and not future.done():
                    future.set_result(None)

    def _affected(self, op):
        """The ready sockets a membership change is about (a connecting socket applies it in `catch_up`)."""
        topic = group_topic(op[1]) if op[0] == "private" else user_topic(op[1])
        return [c for c in self.topics.get(topic, ()) if c.ready]

    def _fill_up_to(self, position):
        """Read the stream back up to `position`, unless the entries arrive live first."""
        self._fill_target = max(self._fill_target, position)
        if self._filling is None and self.position < self._fill_target:
            self._filling = asyncio.create_task(self._fill(), name="relay-hub-fill")

    async def _fill(self):
        delay = settings.RELAY_STREAM_GAP_WAIT
        try:
            await asyncio.sleep(delay)  # a missing entry is usually just behind: give it a moment
            while self.position < self._fill_target:
                try:
                    page = await _read_entries(self.position, self._fill_target)
                except Exception:
                    log.warning("relay hub could not read the stream back; trying again", exc_info=True)
                    await asyncio.sleep(1.0)
                    continue
                self.fills += 1
                async with self._pass:
                    try:
                        if not page:  # trimmed away meanwhile: nothing left to deliver
                            log.warning("relay hub: entries %s..%s are gone from the stream",
                                        self.position + 1, self._fill_target)
                            self._skip_to(min([self._fill_target, *(s - 1 for s in self.ahead)]))
                            continue
                        for entry in page:
                            self._take(entry)
                    finally:
                        await self._flush()
        finally:
            self._filling = None
        if self.position < self._fill_target:
            self._fill_up_to(self._fill_target)

    # --- writing -----------------------------------------------------------------------
    def _deliver(self, consumers, text):
        """Queue `text` for each ready consumer, to be written by `_flush`."""
        prepared = None
        out, pushes = self._out, self._pushes
        for consumer in consumers:
            if not consumer.ready or consumer.closed:
                continue
            if consumer.raw_send is not None:
                # The same frame bytes for every local socket: framed once per event.
                if prepared is None:
                    prepared = (fastpath.frame(text), text)
                frames = out.get(consumer)
                if frames is None:
                    out[consumer] = [prepared]
                else:
                    frames.append(prepared)
            else:
                queued = pushes.get(consumer)
                if queued is None:
                    pushes[consumer] = [text]
                else:
                    queued.append(text)

    async def _flush(self):
        """Write what this pass queued: one write per fast socket (sockets that got the same
        events share one joined buffer), then the ASGI sends of the others, in order; then
        close the sockets that a membership change closed."""
        if self._out:
            out, self._out = self._out, {}
            joined = {}
            slow = []
            for consumer, frames in out.items():
                if len(frames) == 1:
                    data = frames[0][0]
                else:
                    key = tuple(id(f) for f in frames)
                    data = joined.get(key)
                    if data is None:
                        data = joined[key] = b"".join(f[0] for f in frames)
                if consumer.raw_send(data, frames) == fastpath.SLOW:
                    slow.append(consumer)
            for consumer in slow:
                log.warning("relay: closing socket %s of user %s with %d: it stopped reading",
                            consumer.client_id, consumer.user_id, CLOSE_SLOW_CONSUMER)
                # In a task of its own: the close may wait behind the very buffer the client
                # is not reading (uvicorn waits until the transport is writable again), and
                # the hub must not wait with it. The socket counts as closed at once.
                self._spawn(consumer.close_with(CLOSE_SLOW_CONSUMER))
        while self._pushes:
            pushes, self._pushes = self._pushes, {}
            for consumer, queued in pushes.items():
                for text in queued:
                    await consumer.push(text)
        while self._to_close:
            closing, self._to_close = self._to_close, []
            for consumer, code in closing:
                await consumer.close_with(code)

    # --- upkeep ------------------------------------------------------------------------
    async def _maintenance_loop(self):
        interval = settings.RELAY_STREAM_POLL
        heartbeat_every = max(1.0, min(5.0, settings.RELAY_PRESENCE_TTL / 3))
        last_refresh = last_heartbeat = last_trim = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            try:
                # Anything committed and not here yet (lost with nothing after it) is read back.
                head, _ = await _read_head()
                if head > self.position:
                    self._fill_up_to(head)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("relay hub could not read the stream's head", exc_info=True)
            now = time.monotonic()
            await self._close_idle_anonymous(now)
            disconnects = getattr(self.layer, "disconnects", 0)
            if disconnects != self._disconnects:
                self._disconnects = disconnects
                self._mark_lost(ConnectionError("the channel layer's subscriber connection broke"))
            if now - last_heartbeat < heartbeat_every and not self._lost:
                continue
            last_heartbeat = now
            try:
                await self.presence.heartbeat(self, full=self._lost)
                if self._lost or now - last_refresh > _GROUP_REFRESH:
                    # Redis may have restarted empty: join the stream's group again.
                    await self.layer.group_add(stream_group(), self.channel)
                    last_refresh = now
                    if self._lost:
                        log.warning("relay hub is back on the channel layer")
                    self._lost = False
                if now - last_trim > _TRIM_EVERY:
                    last_trim = now
                    await _trim(time.time() - settings.RELAY_STREAM_RETENTION)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._mark_lost(exc)

    async def _close_idle_anonymous(self, now):
        idle = settings.RELAY_ANONYMOUS_IDLE
        for sockets in list(self.anonymous.values()):
            for consumer in [c for c in sockets if now - c.last_frame > idle]:
                await consumer.close_with(CLOSE_IDLE_ANONYMOUS)

    def _mark_lost(self, exc):
        if not self._lost:
            log.warning("relay hub lost the channel layer (the stream is read back meanwhile): %r", exc)
        self._lost = True


def _change(consumer, op, hub):
    """Apply one membership change to one socket; the close code if it closes the socket."""
    kind = op[0]
    if kind == "private":
        topic = group_topic(op[1])
        if topic in consumer.topics and topic not in consumer.member_topics:
            consumer.subscriptions.discard(topic)
            hub._unsubscribe(consumer, topic)
        return None
    if op[1] != consumer.user_id:
        return None
    if kind == "close":
        return op[2]
    topic = group_topic(op[2])
    if kind == "add":
        consumer.member_topics.add(topic)
        hub._subscribe(consumer, topic)
    elif kind == "remove":
        consumer.member_topics.discard(topic)
        consumer.subscriptions.discard(topic)
        hub._unsubscribe(consumer, topic)
    elif kind == "drop" and topic not in consumer.member_topics:
        consumer.subscriptions.discard(topic)
        hub._unsubscribe(consumer, topic)
    return None


_hubs: dict = {}


async def get_hub() -> Hub:
    """The hub of the running event loop, started on first use."""
    loop = asyncio.get_running_loop()
    entry = _hubs.get(loop)
    if entry is None:
        ready = loop.create_future()
        hub = Hub(get_channel_layer())
        _hubs[loop] = entry = (hub, ready)
        try:
            await hub.start()
        except BaseException as exc:
            del _hubs[loop]
            ready.set_exception(exc)
            ready.exception()  # mark retrieved
            raise
        ready.set_result(hub)
    return await asyncio.shield(entry[1])


async def stop_hub():
    """Stop this loop's hub (tests, shutdown)."""
    entry = _hubs.pop(asyncio.get_running_loop(), None)
    if entry is not None and entry[1].done() and not entry[1].exception():
        await entry[0].stop()
