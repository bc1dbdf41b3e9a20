"""The process-local end of the relay: one hub per process (per event loop).

The usual Channels design gives every socket its own layer channel, so a group
event to 1000 members is 1000 layer messages, 1000 decodes, 1000 dispatches and
1000 JSON encodes. Here each process has one layer channel. The hub joins a
layer group (a *topic*: `user.5`, `group.7`, `post.42`) once while at least one
local socket needs it, receives each event once, and writes the same
pre-encoded text to every local socket of that topic.

When events arrive faster than the sockets can be written (a busy group), the
hub does not fall further behind one write per socket per event: it takes
every event that has arrived since its last pass and writes each socket's
share in one `transport.write`, so a backlog shrinks the number of system
calls instead of growing the latency.

Membership stays exact on every process because every change of a user's
groups goes to that user's topic as a control message ("relay.member"), which
each process applies to its own sockets of that user, in order.

Layer messages the hub understands (built by `relay.notify`):
- relay.event  {t: topic, text, eid?, mid?, xu?: [user ids], xc?: [client ids]}
- relay.client {c: [client ids], text}
- relay.member {t: user topic, op: "add"|"remove", g: group topic, text?}
- relay.close  {t: user topic, code}
"""

import asyncio
import collections
import itertools
import logging
import time
import weakref

from channels.layers import get_channel_layer
from django.conf import settings

from relay import events, fastpath, presence

log = logging.getLogger("kirimin.relay")

# A client that stops reading is closed with this code once its send buffer passes
# RELAY_MAX_SEND_BUFFER: it has missed events and should reconnect with since=.
CLOSE_SLOW_CONSUMER = 4008
_DEDUPE_WINDOW = 4096  # multi-topic events remembered to deliver each once per socket
_GROUP_REFRESH = 3600  # re-add every topic hourly; layer groups expire after a day


def user_topic(user_id):
    return f"user.{user_id}"


def group_topic(group_id):
    return f"group.{group_id}"


class Hub:
    """Local sockets by topic, one layer channel, one receive loop."""

    def __init__(self, layer):
        self.layer = layer
        self.channel = None
        self.topics: dict[str, set] = {}
        self.clients: dict[str, object] = {}
        self._joined: set[str] = set()
        self._locks = weakref.WeakValueDictionary()
        self._seen = collections.OrderedDict()
        self._ids = itertools.count(1)
        self._tasks = []
        self._inbox = []  # layer messages received and not yet handled, in order
        self._mail = asyncio.Event()
        self._out = {}  # fast socket -> [(frame bytes, text)] to write at the end of this pass
        self._pushes = {}  # other socket -> [(text, message id)] to send through ASGI
        self._closing = set()  # close tasks of sockets that stopped reading
        self._lost = False
        self._disconnects = 0  # the layer's count of subscriber breaks already handled
        self.presence = presence.for_hub()

    # --- lifecycle -----------------------------------------------------------------
    async def start(self):
        self.channel = await self.layer.new_channel()
        self._tasks = [
            asyncio.create_task(self._receive_loop(), name="relay-hub-receive"),
            asyncio.create_task(self._deliver_loop(), name="relay-hub-deliver"),
            asyncio.create_task(self._maintenance_loop(), name="relay-hub-maintenance"),
        ]
        log.info("relay hub started on %s", self.channel)

    async def stop(self):
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for topic in list(self._joined):
            try:
                await self.layer.group_discard(topic, self.channel)
            except Exception:  # shutting down: Redis may already be gone
                pass
        self._joined.clear()
        await self.presence.stop()

    def new_client_id(self):
        # The process channel is part of the id, so notify_clients needs no lookup table.
        return f"{self.channel}#{next(self._ids)}"

    # --- sockets -----------------------------------------------------------------------
    async def attach(self, consumer, topics):
        """Register a socket and subscribe it to `topics` (its user and groups)."""
        self.clients[consumer.client_id] = consumer
        for topic in topics:
            await self.subscribe(consumer, topic)
        if consumer.user_id is not None:
            await self.presence.set_local(consumer.user_id, self.local_sockets(consumer.user_id))

    async def detach(self, consumer):
        self.clients.pop(consumer.client_id, None)
        for topic in list(consumer.topics):
            await self.unsubscribe(consumer, topic)
        if consumer.user_id is not None:
            await self.presence.set_local(consumer.user_id, self.local_sockets(consumer.user_id))

    def local_sockets(self, user_id):
        return len(self.topics.get(user_topic(user_id), ()))

    def online_user_ids(self):
        return [int(t[5:]) for t in self.topics if t.startswith("user.")]

    async def subscribe(self, consumer, topic):
        if topic in consumer.topics:
            return
        consumer.topics.add(topic)
        self.topics.setdefault(topic, set()).add(consumer)
        await self._sync_topic(topic)

    async def unsubscribe(self, consumer, topic):
        if topic not in consumer.topics:
            return
        consumer.topics.discard(topic)
        members = self.topics.get(topic)
        if members is not None:
            members.discard(consumer)
            if not members:
                del self.topics[topic]
        await self._sync_topic(topic)

    async def _sync_topic(self, topic):
        """Make the layer group match local need; serialized per topic so add/discard never reorder."""
        lock = self._locks.get(topic)
        if lock is None:
            lock = self._locks[topic] = asyncio.Lock()
        async with lock:
            wanted = topic in self.topics
            try:
                if wanted and topic not in self._joined:
                    await self.layer.group_add(topic, self.channel)
                    self._joined.add(topic)
                elif not wanted and topic in self._joined:
                    self._joined.discard(topic)
                    await self.layer.group_discard(topic, self.channel)
            except Exception as exc:
                # The layer is down. Sockets keep working locally; once it is back, upkeep
                # rejoins every topic still wanted and tells every socket to resync.
                self._mark_lost(exc)

    # --- delivery ----------------------------------------------------------------------
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
        try:
            for message in messages:
                try:
                    await self._handle(message)
                except Exception:
                    log.exception("relay hub failed to handle %s", message.get("type"))
        finally:
            await self._flush()

    async def _handle(self, message):
        kind = message.get("type")
        if kind == "relay.event":
            self._deliver(self.topics.get(message["t"], ()), message)
        elif kind == "relay.client":
            self._deliver([self.clients[c] for c in message["c"] if c in self.clients], message)
        elif kind == "relay.member":
            await self._flush()  # events before the change go out before it
            await self._apply_membership(message)
        elif kind == "relay.close":
            await self._flush()
            for consumer in list(self.topics.get(message["t"], ())):
                await consumer.close_with(message["code"])
        elif kind == "healthz.ping":
            pass
        else:
            log.warning("relay hub ignored a %r message", kind)

    def _deliver(self, consumers, message):
        """Queue `message` for each consumer, to be written by `_flush`."""
        if not consumers:
            return
        text = message["text"]
        mid = message.get("mid")
        excluded_users = message.get("xu") or ()
        excluded_clients = message.get("xc") or ()
        seen = None
        eid = message.get("eid")
        if eid is not None:  # sent to several topics: each socket gets it once
            seen = self._seen.get(eid)
            if seen is None:
                seen = self._seen[eid] = set()
                if len(self._seen) > _DEDUPE_WINDOW:
                    self._seen.popitem(last=False)
        prepared = None
        out, pushes = self._out, self._pushes
        for consumer in list(consumers):
            if consumer.user_id in excluded_users or consumer.client_id in excluded_clients:
                continue
            if seen is not None:
                if consumer.client_id in seen:
                    continue
                seen.add(consumer.client_id)
            if consumer.raw_send is not None and consumer.ready and not consumer.closed:
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
                    pushes[consumer] = [(text, mid)]
                else:
                    queued.append((text, mid))

    async def _flush(self):
        """Write what this pass queued: one write per fast socket (sockets that got the same
        events share one joined buffer), then the ASGI sends of the others, in order."""
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
                task = asyncio.create_task(consumer.close_with(CLOSE_SLOW_CONSUMER))
                self._closing.add(task)
                task.add_done_callback(self._closing.discard)
        while self._pushes:
            pushes, self._pushes = self._pushes, {}
            for consumer, queued in pushes.items():
                for text, mid in queued:
                    await consumer.push(text, mid)

    async def _apply_membership(self, message):
        sockets = list(self.topics.get(message["t"], ()))
        group = message["g"]
        for consumer in sockets:
            if message["op"] == "add":
                consumer.member_topics.add(group)
                await self.subscribe(consumer, group)
            else:
                consumer.member_topics.discard(group)
                consumer.subscriptions.discard(group)
                await self.unsubscribe(consumer, group)
        if message.get("text"):
            self._deliver(sockets, message)
            await self._flush()

    # --- upkeep ------------------------------------------------------------------------
    async def _maintenance_loop(self):
        interval = max(1.0, min(5.0, settings.RELAY_PRESENCE_TTL / 3))
        last_refresh = time.monotonic()
        while True:
            await asyncio.sleep(interval)
            disconnects = getattr(self.layer, "disconnects", 0)
            if disconnects != self._disconnects:  # the layer reconnected: events may be lost
                self._disconnects = disconnects
                self._mark_lost(ConnectionError("the channel layer's subscriber connection broke"))
            try:
                await self.presence.heartbeat(self, full=self._lost)
                if self._lost or time.monotonic() - last_refresh > _GROUP_REFRESH:
                    await self._rejoin_all()
                    last_refresh = time.monotonic()
                if self._lost and await _subscribers_ready(self.layer, timeout=interval):
                    self._lost = False
                    log.warning("relay hub reconnected to the channel layer; asking clients to resync")
                    text = events.encode(events.resync("relay_reconnected"))
                    self._deliver(list(self.clients.values()), {"text": text})
                    await self._flush()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._mark_lost(exc)

    def _mark_lost(self, exc):
        if not self._lost:
            log.warning("relay hub lost the channel layer: %r", exc)
        self._lost = True

    async def _rejoin_all(self):
        # Redis may have restarted empty: put this process back into every group it needs.
        for topic in list(self.topics):
            await self.layer.group_add(topic, self.channel)
            self._joined.add(topic)


async def _subscribers_ready(layer, timeout):
    """Whether events published now reach this process: a resync sent earlier would let a
    client re-read history and then miss what is published before the layer resubscribes."""
    ready = getattr(layer, "subscribers_ready", None)
    return True if ready is None else await ready(timeout)


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
