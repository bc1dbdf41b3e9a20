"""Emitting events: how REST views, domain actions and the admin reach live sockets.

A stateful event (`emit`, and the membership changes) becomes an entry of the
numbered stream. It is queued in the current transaction; just before that
transaction commits, the database backend (`relay.stream.backends`) takes the
next positions under the stream's lock and stores the entries
(`relay.stream.numbering.number_pending`). After the commit they wait in the
connection's outbox until whoever ran the action sends them (`take`, `send`) to
every process's hub.
A rolled-back action stores and relays nothing, and positions follow commit
order, so a hub or a client that sees position 12 after 10 knows that 11 exists
and can read it back.

`ephemeral` events (typing) and `to_clients` frames are not numbered: they go out
after commit and are not replayed.

Frames are encoded to JSON once, here; the hubs write the same text to every socket.
"""

import collections
import logging
import time

import orjson
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection, transaction

from relay.stream.layers import group_send_many
from relay.stream.numbering import store
from relay.stream.topics import channel_topic, group_topic, stream_group, user_topic

log = logging.getLogger("kirimin.relay")


def encode(payload) -> str:
    """JSON text for a frame; called once per event, never per recipient."""
    return orjson.dumps(payload).decode()


class Entry:
    """An event on its way into the stream. `seq` and `streams` are set when it is numbered, at
    commit (`reserved` holds them if they were taken earlier, with the transaction's messages)."""

    __slots__ = ("event", "users", "groups", "channels", "topics", "ops", "message_id", "seq", "streams", "text",
                 "variants", "own", "reserved")

    def __init__(self, event, *, users=(), groups=(), channels=(), ops=(), message_id=None, variants=None):
        self.event = event
        self.users, self.groups, self.channels = list(users), list(groups), list(channels)
        topics = [user_topic(u) for u in self.users] + [group_topic(g) for g in self.groups]
        topics += [channel_topic(c) for c in self.channels]
        self.topics = list(dict.fromkeys(topics))
        self.ops = [list(op) for op in ops]
        self.message_id = message_id
        self.seq = None
        self.streams = None
        self.reserved = None  # (seq, streams) once taken under the lock, until numbered (`relay.stream.numbering`)
        self.text = ""  # the frame as sent, once numbered
        self.own = None  # {"<user id>": offset} of its user streams, when it has several (see `number`)
        # {"<user id>": kind} (`relay.stream.variants`): JSON's keys are text
        self.variants = {str(user_id): kind for user_id, kind in variants.items()} if variants else None

    def number(self, seq, streams):
        """Give the entry its position and its offset in each of its topics' streams; the
        event is encoded here, so the action may complete it (a message's id) until then."""
        self.seq, self.streams = seq, streams
        if self.event is not None:
            users = {name: offset for name, offset in streams.items() if name.startswith("user:")}
            if len(users) > 1:
                # Each user is told their own stream's offset only (`relay.stream.variants.text_for`
                # adds it): who else an event went to is not theirs to know (a presence frame's
                # listeners, a post's friends).
                self.own = {name[5:]: offset for name, offset in users.items()}
                streams = {name: offset for name, offset in streams.items() if name not in users}
            self.text = encode({**self.event, "seq": seq, "streams": streams})

    def data(self):
        data = {"t": self.topics, "o": self.ops}
        if self.variants:
            data["v"] = self.variants
        if self.own:
            data["u"] = self.own
        return encode(data)

    def message(self):
        """The layer message every hub gets (`y`, the frame's type, and `at`, when it was sent:
        for the metrics)."""
        message = {"type": "relay.entry", "s": self.seq, "text": self.text, "t": self.topics, "o": self.ops,
                   "at": time.time()}
        if self.event is not None:
            message["y"] = self.event["type"]
        if self.variants:
            message["v"] = self.variants
        if self.own:
            message["u"] = self.own
        return message


class RelayOutcome:
    """How the events of one socket frame fared: a relay outage must not pass for a
    delivery. The socket marks the `ack` with `"relayed": false` when any of them could
    not be published (REST counts them on the response instead, `config.rest.relayed`);
    they still reach every socket: each hub reads what it missed back from the stream."""

    __slots__ = ("failed",)

    def __init__(self, failed=0):
        self.failed = failed


# --- publishing, after commit ----------------------------------------------------------------------
async def publish(entries):
    """Publish numbered entries to every hub, in order, in as few layer round trips as the layer
    allows; one result per entry: None, or the exception that kept it from going out (it still
    reaches every socket: the hubs read it back from the stream)."""
    if not entries:
        return []
    group = stream_group()
    results = await group_send_many(get_channel_layer(), [(group, e.message()) for e in entries])
    errors = [r for r in results if r is not None]
    if errors:
        log.warning("relay: %d of %d events could not be published (the hubs read them back from the stream)",
                    len(errors), len(entries), exc_info=errors[0])
    return results


async def _send_recorded(send, args):
    """After commit. The action has committed, so a relay outage must not turn its answer into
    an error: it is logged and counted (the answer says `relayed: false`)."""
    try:
        return await send(*args) or 0
    except Exception:
        log.warning("relay: an event could not be sent after commit", exc_info=True)
        return 1


async def _publish_entries(entries):
    return sum(r is not None for r in await publish(entries))


async def _publish_entry(entry):
    return await _publish_entries([entry])


# --- the outbox: what committed, until its caller sends it ------------------------------------------
# An action's events wait, once its transaction has committed, in the outbox of the database
# connection that committed them, whoever called the action; the caller takes them and sends
# them: REST and the admin in `config.rest.relayed`, the relay's handlers and message writer
# once their action returns. Whatever nobody takes still reaches every socket: each hub
# reads the stream back when it sees a gap or within RELAY_STREAM_POLL.
OUTBOX_LIMIT = 10_000


def _after_commit(send, *args, entry=None, db=None):
    db = db or transaction.get_connection()

    def run():
        if entry is not None and entry.seq is None:
            # Committed without the stream's backend (a test capturing on_commit callbacks).
            _store_now([entry])
        outbox = db.__dict__.setdefault("relay_outbox", collections.deque(maxlen=OUTBOX_LIMIT))
        if len(outbox) == OUTBOX_LIMIT:
            log.warning("relay: %d sends were never taken from the outbox (code that runs actions must "
                        "send what they commit: publish.send_now(publish.take()))", OUTBOX_LIMIT)
        outbox.append((send, args))

    run.stream_entry = entry
    db.on_commit(run, robust=True)


def take(db=None):
    """The sends that `db`'s committed transactions scheduled (this thread's connection by
    default) since they were last taken, oldest first; the outbox is left empty."""
    outbox = (db or transaction.get_connection()).__dict__.get("relay_outbox")
    if not outbox:
        return []
    sends = list(outbox)
    outbox.clear()
    return sends


async def send(sends):
    """Send what was taken, in order, in as few layer round trips as the layer allows (the
    entries in a row go in one publish); return how many could not be sent."""
    failed, entries = 0, []
    for fn, args in sends:
        if fn is _publish_entry:
            entries.append(args[0])
            continue
        if entries:
            failed += await _send_recorded(_publish_entries, (entries,))
            entries = []
        failed += await _send_recorded(fn, args)
    if entries:
        failed += await _send_recorded(_publish_entries, (entries,))
    return failed


def send_now(sends):
    """`send` from sync code (a REST request's thread); return how many could not be sent."""
    return async_to_sync(send)(sends) if sends else 0


async def send_many(batches):
    """Send several callers' taken sends (a list each), in order, in as few layer round trips as
    the layer allows; return how many could not be sent, per list."""
    if any(fn is not _publish_entry for sends in batches for fn, _ in sends):
        return [await send(sends) for sends in batches]
    entries = [(i, args[0]) for i, sends in enumerate(batches) for _, args in sends]
    failed = [0] * len(batches)
    for (owner, _), result in zip(entries, await publish([e for _, e in entries]), strict=True):
        if result is not None:
            failed[owner] += 1
    return failed


def _store_now(entries):
    with transaction.atomic():
        if any(e.seq is None for e in entries):
            store(connection, [e for e in entries if e.seq is None])


def _queue(entry):
    db = transaction.get_connection()  # looked up once: a batch of messages queues hundreds
    if db.in_atomic_block:
        _after_commit(_publish_entry, entry, entry=entry, db=db)
        return
    # Outside a transaction this opens one, so that the entry is numbered as it commits.
    with transaction.atomic(savepoint=False):
        _after_commit(_publish_entry, entry, entry=entry)


# --- the API for actions ----------------------------------------------------------------------
def emit(event, *, users=(), groups=(), channels=(), message_id=None, variants=None):
    """A stateful event for every socket of `users`, of the members (and subscribers) of
    `groups`, and of subscribers of public `channels` ("post:42"): numbered, stored, and
    published after the current transaction commits. `variants`: how some users are told it
    ({"<user id>": kind}, `relay.stream.variants`). Returns the queued `Entry`: until the
    transaction commits, the action may still complete its event (a message's id)."""
    entry = Entry(event, users=users, groups=groups, channels=channels, message_id=message_id, variants=variants)
    _queue(entry)
    return entry


def notify_users(user_ids, event, **options):
    emit(event, users=user_ids, **options)


def notify_groups(group_ids, event, **options):
    emit(event, groups=group_ids, **options)


def add_member(user_id, group_id, event=None):
    """`user_id` joins `group_id`: from this position on, their sockets get the group's events;
    `event` (the `join` frame) goes to the group, the new member included, and to their own stream."""
    _queue(Entry(event, users=[user_id], groups=[group_id] if event is not None else [],
                 ops=[("add", user_id, group_id)]))


def remove_member(user_id, group_id, event=None):
    """`user_id` leaves `group_id`: their sockets stop getting its events at this position;
    `event` (the `leave` or `kick` frame) goes to the remaining members and to them."""
    _queue(Entry(event, users=[user_id], groups=[group_id] if event is not None else [],
                 ops=[("remove", user_id, group_id)]))


def remove_members(user_ids, group_id):
    """A deleted group: every member's sockets drop it (one entry, whatever the group's size)."""
    user_ids = list(user_ids)
    if user_ids:
        _queue(Entry(None, users=user_ids, ops=[("remove", u, group_id) for u in user_ids]))


def close_user_sockets(user_id, code=4403):
    """Close every open socket of the user at this position (deactivation)."""
    _queue(Entry(None, users=[user_id], ops=[("close", user_id, code)]))


def group_closed(group_id):
    """The group became private: sockets subscribed to it without being members stop getting it."""
    _queue(Entry(None, ops=[("private", group_id)]))


def drop_subscriber(user_id, group_id):
    """A banned non-member: their sockets stop getting the group's events, however they subscribed."""
    _queue(Entry(None, users=[user_id], ops=[("drop", user_id, group_id)]))


def ephemeral(event, *, users=(), groups=(), exclude_users=()):
    """A frame that is not kept (typing): after commit, to the sockets on those topics now."""
    topics = [user_topic(u) for u in users] + [group_topic(g) for g in groups]
    message = {"type": "relay.event", "t": topics, "text": encode(event)}
    if exclude_users:
        message["xu"] = list(exclude_users)
    _after_commit(_publish_message, message)


async def _publish_message(message):
    await get_channel_layer().group_send(stream_group(), message)


def to_clients(client_ids, event):
    """A frame for single sockets by their `client_id`, after commit; not kept."""
    _after_commit(send_to_clients, list(client_ids), encode(event))


async def send_to_clients(client_ids, text):
    """Send the encoded frame `text` to single sockets by their `client_id`, now: each process's
    hub gets it behind everything published to it before."""
    layer = get_channel_layer()
    by_channel = {}
    for client_id in client_ids:
        channel, _, _ = client_id.rpartition("#")
        if channel:
            by_channel.setdefault(channel, []).append(client_id)
    for channel, ids in by_channel.items():
        await layer.send(channel, {"type": "relay.client", "c": ids, "text": text})
