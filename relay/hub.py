"""The process-local end of the relay: one hub per process (per event loop).

Every process's hub listens on one layer group (`relay.stream.topics.stream_group()`,
named after the database) and gets every entry of the numbered stream once,
whatever its audience. It applies them strictly in stream order (`relay.inorder`):
an entry that arrives before the ones before it (a Redis outage lost some, or two
processes published in the other order than they committed) waits while the hub
reads the missing ones back from the database (`relay.stream.read`); one that
arrives twice is dropped. Besides, every `RELAY_STREAM_POLL` seconds the hub
compares its position with the stream's head, so an entry that was lost with
nothing after it is read back too.

Applying an entry first makes its membership changes (a socket joins or leaves a
group's topic, is closed), then writes its text to every local socket on one of
its topics: the same pre-encoded frame bytes for all of them. A socket that is
still connecting is left out: it catches up from `recent` (the entries the hub
applied last) before it goes live (`catch_up`), so nothing falls in between.

Its parts: `relay.inorder` (the stream in order), `relay.registry` (which socket
is on which topic), `relay.outbox` (what one pass writes, one `transport.write`
per socket) and `relay.upkeep` (what runs every `RELAY_STREAM_POLL` seconds: the
head, presence, the layer group, trimming).

Layer messages the hub understands:
- relay.entry  {s: position, text, t: [topics], o: [membership changes], v?: {user id: variant}}
  (relay.stream.publish; variants: relay.stream.variants)
- relay.event  {t: [topics], text, xu?: [user ids]}: not numbered (typing)
- relay.client {c: [client ids], text}
"""

import asyncio
import collections
import contextlib
import itertools
import logging
import time

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings

from config import metrics
from relay import drain
from relay.inorder import InOrder
from relay.liveness import Liveness
from relay.outbox import Outbox
from relay.registry import Registry
from relay.stream import presence, read
from relay.stream.topics import stream_group, user_topic
from relay.stream.variants import text_for
from relay.upkeep import Upkeep, read_head

log = logging.getLogger("kirimin.relay")

# On Channels' database thread, which closes its connection after each call (see relay.upkeep).
_read_entries = database_sync_to_async(read.entries)


class Hub:
    """Local sockets by topic, one layer channel, the stream applied in order."""

    def __init__(self, layer):
        self.draining = False  # `relay.drain`: new sockets are refused
        self.uninstall_drain = None
        self.layer = layer
        self.channel = None
        self.registry = Registry()
        self.stream = InOrder(self._apply, _read_entries, self._applying)
        self.recent = collections.deque()  # at most RELAY_STREAM_RECENT entries and _BYTES of text
        self._recent_bytes = 0
        self._pass = asyncio.Lock()  # one pass applies and writes at a time
        self._ids = itertools.count(1)
        self._tasks = []
        self._inbox = []  # layer messages received and not yet handled, in order
        self._mail = asyncio.Event()
        self._background = set()  # tasks the hub does not wait for (closes, recounts)
        self.outbox = Outbox(self.spawn)
        self.upkeep = Upkeep(self)
        self.presence = presence.for_hub()
        self.liveness = Liveness(self)

    # --- lifecycle -----------------------------------------------------------------
    async def start(self):
        self.channel = await self.layer.new_channel()
        await self.layer.group_add(stream_group(), self.channel)
        # Listening first, then the head: whatever commits from here on comes live or is read back.
        self.stream.position, _ = await read_head()
        self._tasks = [
            asyncio.create_task(self._receive_loop(), name="relay-hub-receive"),
            asyncio.create_task(self._deliver_loop(), name="relay-hub-deliver"),
            asyncio.create_task(self.upkeep.run(), name="relay-hub-upkeep"),
        ]
        self.spawn(self.liveness.sweep())  # told online while every process was down?
        self.uninstall_drain = drain.install(self)  # SIGTERM: sockets told to reconnect elsewhere, spread out
        log.info("relay hub started on %s at position %s", self.channel, self.position)

    async def stop(self):
        if self.uninstall_drain is not None:
            self.uninstall_drain()
            self.uninstall_drain = None
        self.liveness.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, self.stream.stop(), return_exceptions=True)
        background = [task for task in self._background if task is not asyncio.current_task()]
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        self._tasks = []
        try:
            await self.layer.group_discard(stream_group(), self.channel)
        except Exception:  # shutting down: Redis may already be gone
            pass
        await self.presence.stop()

    @property
    def position(self):
        """The newest stream position applied here."""
        return self.stream.position

    def fill_up_to(self, position):
        self.stream.fill_up_to(position)

    def new_client_id(self):
        # The process channel is part of the id, so `to_clients` needs no lookup table.
        return f"{self.channel}#{next(self._ids)}"

    # --- sockets -----------------------------------------------------------------------
    async def admit(self, user_id, cap):
        """Hold a place for one more socket of `user_id` if their sockets on every process stay
        within `cap`; False if not. Counted from here, before any wait, so sockets of one user
        opening at once never all pass the check; `attach` takes the place over."""
        self.registry.joining[user_id] += 1
        try:
            admitted = await self.presence.admit(user_id, self.registry.local_sockets(user_id), cap)
        except BaseException:
            # Failed or cancelled, maybe after the count was raised: write the true one back.
            self.registry.joined(user_id)
            self.liveness.closed(user_id)  # the last socket may have closed while this one waited
            self.spawn(self._recount(user_id))
            raise
        if not admitted:
            self.registry.joined(user_id)
            self.liveness.closed(user_id)
        return admitted

    async def _recount(self, user_id):
        try:
            await self.presence.set_local(user_id, self.registry.local_sockets(user_id),
                                          keep=user_id in self.liveness.leaving)
        except Exception:  # best effort: the next heartbeat rewrites every count
            pass

    def spawn(self, coroutine):
        task = asyncio.create_task(coroutine)
        self._background.add(task)  # held, so the loop does not drop it half done
        task.add_done_callback(self._background.discard)
        return task

    async def attach(self, session, topics):
        """Register a socket on `topics` (its user and groups), in the place `admit` held for a
        user's socket. It gets nothing until it is `ready` (see `catch_up`)."""
        self.registry.add(session, topics)
        if session.user_id is not None:
            first = self.registry.attached(session.user_id) == 1  # before any wait
            await self.presence.set_local(session.user_id, self.registry.local_sockets(session.user_id))
            self.liveness.opened(session.user_id, first)

    async def detach(self, session):
        self.registry.forget(session)
        if session.user_id is not None:
            user_id, local = session.user_id, self.registry.local_sockets(session.user_id)
            # The count is written (kept at 0 while a departure is pending) before the departure
            # starts, so that its end (`forget`) always comes after it.
            await self.presence.set_local(user_id, local, keep=self.liveness.on and local == 0)
            self.liveness.closed(user_id)

    async def catch_up(self, session, timeout=10.0):
        """Bring a connecting socket from its `position` (where its state was read) to the
        hub's, then make it live; raise TimeoutError if the hub cannot get there in time."""
        await self.stream.reach(session.position, timeout)
        while True:
            missed = self._since(session.position)
            if missed is None:  # further back than `recent` goes
                missed = await _read_entries(session.position, self.stream.position)
            if not missed:
                session.ready = True  # no await since `_since`: nothing applied meanwhile
                return
            texts = []
            for entry in missed:
                session.position = entry["s"]
                code = None
                for op in entry["o"]:
                    code = self.registry.change(session, op) or code
                if code is not None:
                    await session.write_many(texts)
                    await session.close_with(code)
                    return
                if entry["text"] and not session.topics.isdisjoint(entry["t"]):
                    texts.append(text_for(entry, session.user_id))
            await session.write_many(texts)
            if session.closed:
                return

    def _since(self, position):
        if position >= self.stream.position:
            return []
        if not self.recent or self.recent[0]["s"] > position + 1:
            return None
        return list(itertools.islice(self.recent, position + 1 - self.recent[0]["s"], None))

    # --- receiving ---------------------------------------------------------------------
    async def _receive_loop(self):
        delay = 0.1
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.upkeep.mark_lost(exc)
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
        async with self._applying():
            for message in messages:
                try:
                    self._handle(message)
                except Exception:
                    log.exception("relay hub failed to handle %s", message.get("type"))

    @contextlib.asynccontextmanager
    async def _applying(self):
        """One pass at a time applies entries; what it wrote goes out when it ends."""
        async with self._pass:
            try:
                yield
            finally:
                await self.outbox.flush()

    def _handle(self, message):
        kind = message.get("type")
        if kind == "relay.entry":
            self.stream.take(message)
        elif kind == "relay.event":
            sessions = set()
            for topic in message["t"]:
                sessions.update(self.registry.topics.get(topic, ()))
            excluded = message.get("xu") or ()
            to = [c for c in sessions if c.user_id not in excluded]
            self.outbox.deliver(to, message["text"])
            metrics.FRAMES_OUT.labels("typing").inc(len(to))
        elif kind == "relay.client":
            clients = self.registry.clients
            self.outbox.deliver([clients[c] for c in message["c"] if c in clients], message["text"])
        elif kind == "healthz.ping":
            pass
        else:
            log.warning("relay hub ignored a %r message", kind)

    # --- applying the stream ------------------------------------------------------------
    def _apply(self, entry):
        recent = self.recent
        recent.append(entry)
        self._recent_bytes += len(entry["text"])
        while len(recent) > settings.RELAY_STREAM_RECENT or self._recent_bytes > settings.RELAY_STREAM_RECENT_BYTES:
            self._recent_bytes -= len(recent.popleft()["text"])
        registry = self.registry
        for op in entry["o"]:
            for session in registry.affected(op):
                code = registry.change(session, op)
                if code is not None:
                    registry.forget(session)
                    self.outbox.close_later(session, code)
        if entry["text"]:
            topics = entry["t"]
            if len(topics) == 1:
                sessions = registry.topics.get(topics[0], ())
            else:
                sessions = set()
                for topic in topics:
                    sessions.update(registry.topics.get(topic, ()))
            if "u" in entry or "v" in entry:  # some users are told it differently (`relay.stream.variants`)
                told = {**entry.get("u", {}), **entry.get("v", {})}  # found through their own topic
                sessions = sessions if isinstance(sessions, (set, frozenset)) else set(sessions)
                varied = {s for user_id in told for s in registry.topics.get(user_topic(int(user_id)), ())
                          if s in sessions}
                for session in varied:
                    self.outbox.deliver([session], text_for(entry, session.user_id))
                if varied:
                    sessions = sessions - varied
            else:
                varied = ()
            self.outbox.deliver(sessions, entry["text"])
            if sessions or varied:
                metrics.FRAMES_OUT.labels(entry.get("y", "other")).inc(len(sessions) + len(varied))
                if "at" in entry:
                    metrics.COMMIT_TO_WRITE.observe(time.time() - entry["at"])


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
