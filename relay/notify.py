"""The notify API: how REST views, domain actions and the admin reach live sockets.

Every public function here sends only after the current transaction commits
(`transaction.on_commit`), so a rolled-back action relays nothing. The event is
encoded to JSON once, at the call site, so a bad payload fails where it is built
and no process ever re-encodes it.

Audiences:
- users: every socket of those users, on every process, all devices;
- groups: every socket subscribed to `group:<id>` (members, plus subscribers of a public group);
- channels: subscribers of a public channel name such as "post:42";
- clients: single sockets by their `client_id`.

Sync forms are for actions and views; the `a`-prefixed forms are for async
code that is not inside a transaction.
"""

import contextvars
import logging
import uuid
from collections import defaultdict

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from relay.events import encode
from relay.hub import group_topic, user_topic
from relay.layers import group_send_many

log = logging.getLogger("kirimin.relay")


def channel_topic(name):
    """Public channel name -> layer group: "post:42" -> "post.42"."""
    return name.replace(":", ".", 1)


def _event_messages(*, event, users=(), groups=(), channels=(), exclude_users=(), exclude_clients=(),
                    message_id=None):
    topics = [user_topic(u) for u in dict.fromkeys(users)]
    topics += [group_topic(g) for g in dict.fromkeys(groups)]
    topics += [channel_topic(c) for c in dict.fromkeys(channels)]
    base = {"type": "relay.event", "text": encode(event)}
    if len(topics) > 1:
        base["eid"] = uuid.uuid4().hex  # one socket may sit in several topics: deliver once
    if exclude_users:
        base["xu"] = list(exclude_users)
    if exclude_clients:
        base["xc"] = list(exclude_clients)
    if message_id is not None:
        base["mid"] = message_id
    return [(topic, {**base, "t": topic}) for topic in topics]


async def send_event_rollback_unsafe(*, event, users=(), groups=(), channels=(), clients=(),
                                     exclude_users=(), exclude_clients=(), message_id=None):
    """Send now, whatever the transaction does. Only `send_event_on_commit` and async code call this."""
    layer = get_channel_layer()
    for topic, message in _event_messages(event=event, users=users, groups=groups, channels=channels,
                                          exclude_users=exclude_users, exclude_clients=exclude_clients,
                                          message_id=message_id):
        await layer.group_send(topic, message)
    if clients:
        await _send_to_clients(layer, clients, encode(event))


async def _send_to_clients(layer, client_ids, text):
    by_channel = defaultdict(list)
    for client_id in client_ids:
        channel, _, _ = client_id.rpartition("#")
        if channel:
            by_channel[channel].append(client_id)
    for channel, ids in by_channel.items():
        await layer.send(channel, {"type": "relay.client", "c": ids, "text": text})


class RelayOutcome:
    """How the events scheduled by one request or frame fared: a relay outage must not
    pass for a delivery. REST marks the response and the socket marks the `ack` with
    `"relayed": false` when any of them could not be sent."""

    __slots__ = ("failed",)

    def __init__(self):
        self.failed = 0


# Set per request (relay.middleware) and per frame (the consumer).
relay_outcome = contextvars.ContextVar("relay_outcome", default=None)


async def _send_recorded(coroutine_function, args, kwargs):
    """Send after commit. The action has committed, so a relay outage must not turn its answer
    into an error: it is logged and counted (the answer says `relayed: false`), each hub sends
    its sockets `resync` once the layer is back, and clients recover stored messages with since=."""
    try:
        await coroutine_function(*args, **kwargs)
    except Exception:
        log.warning("relay: an event could not be sent after commit", exc_info=True)
        outcome = relay_outcome.get()
        if outcome is not None:
            outcome.failed += 1


# Set by relay handlers around an action run in a worker thread: sends scheduled by that
# action are collected here after commit and awaited by the handler on the event loop,
# instead of each blocking the worker thread on a hop back to the loop.
deferred_sends = contextvars.ContextVar("deferred_sends", default=None)


def _after_commit(coroutine_function, *args, **kwargs):
    def run():
        collected = deferred_sends.get()
        if collected is not None:
            collected.append((coroutine_function, args, kwargs))
        else:
            async_to_sync(_send_recorded)(coroutine_function, args, kwargs)

    transaction.on_commit(run, robust=True)


async def run_deferred(collected):
    """Send what an action scheduled (called by the relay handler once the action returned)."""
    for coroutine_function, args, kwargs in collected:
        await _send_recorded(coroutine_function, args, kwargs)


async def run_deferred_many(batches):
    """Send what several actions scheduled (one collected list each), in order, in as few
    layer round trips as the layer allows; return how many sends failed, per list."""
    failed = [0] * len(batches)
    pairs, owners = [], []
    for i, collected in enumerate(batches):
        for coroutine_function, args, kwargs in collected:
            if coroutine_function is not send_event_rollback_unsafe or args or kwargs.get("clients"):
                # Not a plain topic event: keep it simple and send everything one by one.
                return [await _count_failures(collected) for collected in batches]
            for pair in _event_messages(**kwargs):
                pairs.append(pair)
                owners.append(i)
    if not pairs:
        return failed
    results = await group_send_many(get_channel_layer(), pairs)
    for owner, result in zip(owners, results, strict=True):
        if result is not None:
            failed[owner] += 1
    if any(failed):
        log.warning("relay: %d of %d events could not be sent after commit", sum(failed), len(pairs),
                    exc_info=next(r for r in results if r is not None))
    return failed


async def _count_failures(collected):
    outcome = RelayOutcome()
    token = relay_outcome.set(outcome)
    try:
        await run_deferred(collected)
    finally:
        relay_outcome.reset(token)
    return outcome.failed


def send_event_on_commit(**kwargs):
    """Schedule `send_event_rollback_unsafe(**kwargs)` for after the current transaction commits."""
    event = kwargs["event"]
    encode(event)  # fail here, at the call site, if the payload cannot be sent
    _after_commit(send_event_rollback_unsafe, **kwargs)


def notify_users(user_ids, event, **options):
    send_event_on_commit(event=event, users=list(user_ids), **options)


def notify_groups(group_ids, event, **options):
    send_event_on_commit(event=event, groups=list(group_ids), **options)


def notify_channels(names, event, **options):
    send_event_on_commit(event=event, channels=list(names), **options)


def notify_clients(client_ids, event):
    send_event_on_commit(event=event, clients=list(client_ids))


async def anotify_users(user_ids, event, **options):
    await send_event_rollback_unsafe(event=event, users=list(user_ids), **options)


async def anotify_groups(group_ids, event, **options):
    await send_event_rollback_unsafe(event=event, groups=list(group_ids), **options)


async def anotify_channels(names, event, **options):
    await send_event_rollback_unsafe(event=event, channels=list(names), **options)


async def anotify_clients(client_ids, event):
    await send_event_rollback_unsafe(event=event, clients=list(client_ids))


# --- live membership ------------------------------------------------------------------------
async def _membership_now(op, user_id, group_id, event):
    message = {"type": "relay.member", "t": user_topic(user_id), "op": op, "g": group_topic(group_id)}
    if event is not None:
        message["text"] = encode(event)
    await get_channel_layer().group_send(user_topic(user_id), message)


def add_member_sockets(user_id, group_id, event=None):
    """After commit: every open socket of the user, on every process, joins the group's events.

    `event` (e.g. the `join` frame) is delivered to those sockets right after they
    join, so they get it exactly once; send it to the group with `exclude_users=[user_id]`.
    """
    _after_commit(_membership_now, "add", user_id, group_id, event)


def remove_member_sockets(user_id, group_id, event=None):
    """After commit: every open socket of the user stops receiving the group's events, then gets `event`."""
    _after_commit(_membership_now, "remove", user_id, group_id, event)


async def _close_now(user_id, code):
    await get_channel_layer().group_send(user_topic(user_id), {"type": "relay.close", "t": user_topic(user_id),
                                                               "code": code})


def close_user_sockets(user_id, code=4403):
    """After commit: close every open socket of the user (deactivation, ban)."""
    _after_commit(_close_now, user_id, code)
