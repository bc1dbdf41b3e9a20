"""Opening a socket: who is on it, what it missed, then live.

The user, their groups and the stream's position are read in one snapshot; the socket is
put on its topics there, gets its `connection` frame and its replay (`resume=` or the
legacy `since=`), and catches up with the hub from that position before it goes live
(`Hub.catch_up`), so nothing falls in between.
"""

import logging
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings

from config.redis_clients import REDIS_DOWN
from relay import auth
from relay.drain import CLOSE_SERVICE_RESTART
from relay.hub import get_hub
from relay.replay import replay
from relay.session import Session, close_socket
from relay.stream import events, read
from relay.stream.topics import group_topic, user_topic

log = logging.getLogger("kirimin.relay")

CLOSE_TOO_MANY_SOCKETS = 4429  # for this user, or anonymous ones from this address
CLOSE_FAILED = 1011  # RFC 6455: the server failed while connecting
# How long a connecting socket waits for its process to reach the stream position it was read at.
CATCH_UP_TIMEOUT = 10.0


async def open_socket(send, scope):
    """Accept the socket and bring it live; the `Session`, closed if it was refused (None if
    the process's hub could not even start)."""
    await send({"type": "websocket.accept"})
    session = None
    try:
        hub = await get_hub()
        session = Session(send, hub=hub, client_id=hub.new_client_id())
        if hub.draining:  # this process is leaving: connect to another
            await session.close_with(CLOSE_SERVICE_RESTART)
            return session
        user_id = await _handshake_user_id(scope)
        if user_id is not None:
            snapshot = await sign_in(session, user_id)
            if snapshot is None:
                return session
        else:
            session.address = client_address(scope)
            if hub.registry.anonymous_from(session.address) >= settings.RELAY_MAX_ANONYMOUS_PER_IP:
                await session.close_with(CLOSE_TOO_MANY_SOCKETS)
                return session
            session.position = hub.position
            await hub.attach(session, ())
            snapshot = (session.position, 0, None, {})
        await session.write_many((events.encode(session.connection_frame(seq=snapshot[0], streams=snapshot[3])),))
        await replay(session, scope, *snapshot)
        await hub.catch_up(session, CATCH_UP_TIMEOUT)
    except auth.SocketAuthError as exc:
        await _close(send, session, exc.code)
    except (*REDIS_DOWN, TimeoutError) as exc:  # the channel layer is down: come back shortly
        log.warning("relay: connect refused while the channel layer is down: %r", exc)
        await _close(send, session, auth.TRY_AGAIN_LATER)
    except Exception:
        log.exception("relay: connect failed")
        await _close(send, session, CLOSE_FAILED)
    return session


async def _close(send, session, code):
    if session is not None:
        await session.close_with(code)
    else:  # the hub could not start: nothing to detach from
        await close_socket(send, code)


async def _handshake_user_id(scope):
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    ticket = params.get("id", [None])[0]
    if ticket is not None:
        return await auth.user_id_from_ticket(ticket)
    token = auth.bearer_token(scope)
    if token is not None:
        return await auth.user_id_from_access_token(token)
    return None


async def sign_in(session, user_id):
    """Read the user, their groups and the stream's position in one snapshot, and attach the
    socket to their topics (not live yet: `Hub.catch_up` takes it from that position).
    Returns the snapshot (position, trimmed, (user, group ids), stream offsets), or None if
    the socket was closed instead."""
    snapshot = await _snapshot(user_id)
    position, _, (user, group_ids), _ = snapshot
    if not await session.hub.admit(user.pk, settings.RELAY_MAX_SOCKETS_PER_USER):
        await session.close_with(CLOSE_TOO_MANY_SOCKETS)
        return None
    session.user, session.user_id = user, user.pk
    session.ready, session.position = False, position
    session.member_topics = {group_topic(g) for g in group_ids}
    await session.hub.attach(session, [user_topic(user.pk), *session.member_topics, *session.subscriptions])
    return snapshot


def _topics(member):
    user, group_ids = member
    return [user_topic(user.pk), *(group_topic(g) for g in group_ids)]


# On Channels' database thread. Spreading sign-ins over the worker pool was measured
# slower (104 against 121 connections/s: the threads contend for the GIL) and cost
# about 4 MB more per 1000 sockets (threads, their connections and malloc arenas).
_snapshot_in_thread = database_sync_to_async(read.snapshot)


async def _snapshot(user_id):
    return await _snapshot_in_thread(lambda: auth.load_member(user_id), _topics)


def client_address(scope):
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
