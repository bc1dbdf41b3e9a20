"""Clients that behave like `config/static/app/kirimin.js`, and the ledger that judges what they got.

Used by `test_delivery.py`. A `StreamClient` keeps ONE socket open for one user, as the
client library does:

- on an unexpected close it waits (exponential backoff with jitter, `Backoff`), fetches a
  fresh one-time ticket from `GET /api/auth/is-user/` (refreshing the access token once on a
  401), and reconnects to either server process (picked at random, as a load balancer would)
  with the recovery parameter of its mode; a failed HTTP call (server or Redis down) is retried the
  same way;
- a `resync` frame makes it close and reconnect the same way; it answers a server `ping`
  with `pong`; after `HEARTBEAT` s of silence it sends a `ping` and drops the socket if
  nothing comes back within `HEARTBEAT_TIMEOUT` s;
- `request()` sends a frame with a unique `ref` while the socket is open (kirimin.js would
  queue it; here a frame sent while closed is simply not sent) and the ledger keeps the
  answer: only acknowledged events count.

Two recovery modes:

- `legacy`: `&since=<newest sendmessage id seen>` — exactly what kirimin.js does today.
- `stream`: the stream protocol. Every stateful server frame carries `seq` (a position that
  increases along what one socket receives) and `streams` ({"user:5": 12, "group:7": 40, ...},
  each stream's offsets contiguous). The `connection` frame carries `seq` and the offsets of
  the user's own streams. The client reconnects with `&resume=<newest seq seen, or the
  connection frame's seq if newer>`; a frame whose seq is not above the newest seen is a
  duplicate; a frame whose offset in a tracked stream is beyond last+1 is a gap: counted, the
  frame is not taken, and the client reconnects with resume (from before that frame).
  `resync` with reason "retention" means the resume point was too old: counted, and the client
  starts afresh (no resume).

Every received event is kept in the client's `receipts` with the socket life it came on, so
the `Ledger` can count afterwards, per (member, event): lost, duplicated (by identity across
every life of that user's socket, replays included) and out of order.
"""

import asyncio
import bisect
import collections
import itertools
import json
import time
from dataclasses import dataclass

from tests import servers

LEGACY, STREAM = "legacy", "stream"
MODES = (LEGACY, STREAM)

# Server frames that change state: in the stream protocol each carries `seq` and `streams`.
STATEFUL = frozenset({"announcement", "sendmessage", "postlike", "postdelete", "deletemessage", "join", "leave", "kick",
                      "friendrequest", "notification", "unread", "read", "presence", "unfriend", "editmessage",
                      "groupupdate", "role", "postedit", "block", "mute", "skip", "postcreate", "reaction", "groupcreate"})

HEARTBEAT = 25.0  # s of silence before a `ping` (kirimin.js: heartbeat 25000 ms)
HEARTBEAT_TIMEOUT = 10.0  # s without any frame after that `ping` before reconnecting
OPEN_TIMEOUT = 10.0  # s from the handshake to the `connection` frame


@dataclass(frozen=True)
class Backoff:
    """kirimin.js's `backoffDelay`, in seconds: exponential, capped, jitter below the cap."""

    initial: float = 0.5
    factor: float = 2.0
    max: float = 15.0
    jitter: float = 0.3

    def delay(self, attempt, rng):
        base = min(self.max, self.initial * self.factor ** min(attempt, 30))
        return base * (1 - self.jitter * rng.random())


class Ledger:
    """What was acknowledged (the truth), and when the faults happened (to attribute what went wrong)."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.messages = {}  # message id -> (group id, sender id, ack time, relayed)
        self.likes = {}  # (post id, liker id, liked) -> (likes_count, ack time)
        self.reads = {}  # (group id, reader id, message id) -> ack time: read markers that moved
        self.post_group = {}  # post id -> group id
        self.sent = collections.Counter()  # frames sent, by type
        self.unacked = collections.Counter()  # frames whose socket closed before the answer, by type
        self.errors = collections.Counter()  # `error` answers, "type:code"
        self.phases = [(0.0, "setup")]  # (start, name), in order

    def now(self):
        return time.monotonic() - self.t0

    def phase(self, name):
        self.phases.append((self.now(), name))

    def phase_at(self, t):
        starts = [start for start, _ in self.phases]
        return self.phases[max(0, bisect.bisect_right(starts, t) - 1)][1]

    def phase_names(self):
        return list(dict.fromkeys(name for _, name in self.phases))


class StreamClient:
    """One user's one socket, kept open the way kirimin.js keeps it."""

    def __init__(self, *, user, urls, mode, ledger, rng, backoff, executor, first_server=0):
        assert mode in MODES, mode
        self.user_id = user["user"]["id"]
        self.access, self.refresh = user["access"], user["refresh"]
        self.urls = list(urls)  # base URLs of the server processes (their ports survive restarts)
        self.mode = mode
        self.ledger = ledger
        self.rng = rng
        self.backoff = backoff
        self.executor = executor
        self.next_server = first_server  # then None: reconnects pick a process at random
        self.groups = set()

        self.ws = None
        self.open = False  # the `connection` frame of the current socket arrived
        self.life = 0  # one per socket opened
        self.attempt = 0
        self.wanted = True
        self._skip_wait = False
        self._wake = asyncio.Event()
        self.task = None

        self.last_message_id = 0  # legacy: the `since=` of the next connect (kirimin.js `lastMessageId`)
        self.seen_seq = None  # stream: newest seq taken (or the fresh connection's start)
        self.conn_seq = None  # stream: the last `connection` frame's seq
        self.streams = {}  # stream: name -> last offset taken
        self._resuming = False  # stream: the current socket was opened with resume=
        self._resume_point = None
        self.no_seq = False  # stream: a `connection` frame without `seq` (the protocol is not there)

        self.pending = {}  # ref -> (type, info, life)
        self._refs = itertools.count(1)
        self.receipts = []  # (life, kind, key, extra, t): kind "message" (key id, extra group id) or "postlike"
        self.liked_posts = set()  # posts whose like this user sent and got acknowledged
        self.newest = {}  # group id -> the newest message id received from it
        self.stats = collections.Counter()
        self.gaps = []  # (t, life, [(stream, last, offset)], frame type)
        self.seq_duplicates = []  # (t, life, seq, newest seen, frame type)
        self.stream_notes = []  # odd things about stream positions worth printing
        self.last_event_at = 0.0

    # --- lifecycle ------------------------------------------------------------------------------
    def start(self):
        self.task = asyncio.create_task(self.run(), name=f"client-{self.user_id}")
        return self.task

    async def stop(self):
        self.wanted = False
        self._wake.set()
        ws = self.ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(), 3)
            except Exception:
                pass
        if self.task is not None:
            try:
                await asyncio.wait_for(self.task, 10)
            except (TimeoutError, asyncio.CancelledError):
                self.task.cancel()

    async def reconnect_now(self):
        """Close the socket and reconnect at once with the recovery parameter (the final check)."""
        self._skip_wait = True
        self._wake.set()  # cuts a backoff wait short
        ws = self.ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(1000), 3)
            except Exception:
                pass

    async def run(self):
        while self.wanted:
            await self._one_life()
            if not self.wanted:
                break
            if self._skip_wait:
                self._skip_wait = False
                self._wake.clear()
                continue
            delay = self.backoff.delay(self.attempt, self.rng)
            self.attempt += 1
            self.stats["retries"] += 1
            try:
                await asyncio.wait_for(self._wake.wait(), delay)
            except TimeoutError:
                pass
            self._wake.clear()
            self._skip_wait = False

    # --- one socket --------------------------------------------------------------------------------
    def recovery_query(self):
        if self.mode == LEGACY:
            return f"&since={self.last_message_id}" if self.last_message_id > 0 else ""
        # The connection frame's seq counts only on a fresh socket: on a resumed one it is where the
        # replay ends, and a socket that drops mid-replay must resume from what it really took.
        points = [p for p in (self.seen_seq, None if self._resuming else self.conn_seq) if p is not None]
        return f"&resume={max(points)}" if points else ""

    async def _http(self, base, method, path, body=None, token=None):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, servers.Client(base).request, method, path, body, token)

    async def _ticket(self, base):
        """A fresh `socket` from is-user (refreshing the access token once on a 401), or None."""
        try:
            status, body = await self._http(base, "GET", "/api/auth/is-user/", token=self.access)
            if status == 401:
                self.stats["refreshes"] += 1
                status, body = await self._http(base, "POST", "/api/auth/refresh/", {"refresh": self.refresh})
                if status == 200:
                    self.access, self.refresh = body["data"]["access"], body["data"]["refresh"]
                    status, body = await self._http(base, "GET", "/api/auth/is-user/", token=self.access)
            if status == 200:
                return body["data"]["socket"]
            self.stats[f"ticket_http_{status}"] += 1
        except Exception as exc:  # connection refused, reset, timeout: the server is away
            self.stats[f"ticket_{type(exc).__name__}"] += 1
        return None

    async def _one_life(self):
        from websockets.asyncio.client import connect

        if self.next_server is not None:  # the first socket: where the test put this user
            base, self.next_server = self.urls[self.next_server % len(self.urls)], None
        else:  # a reconnect: either process, as a load balancer would pick
            base = self.rng.choice(self.urls)
        ticket = await self._ticket(base)
        if ticket is None or not self.wanted:
            return
        query = self.recovery_query()
        url = f"ws://{ticket['host']}?id={ticket['id']}{query}"
        try:
            ws = await connect(url, open_timeout=OPEN_TIMEOUT, close_timeout=2, max_queue=None)
        except Exception as exc:
            self.stats[f"connect_{type(exc).__name__}"] += 1
            return
        self.life += 1
        self.ws = ws
        self._resuming = "resume=" in query
        self._resume_point = int(query.rsplit("=", 1)[1]) if self._resuming else None
        self.stats["sockets"] += 1
        if query:
            self.stats["recoveries"] += 1
        try:
            await self._read(ws, self.life)
        finally:
            self.open = False
            self.ws = None
            for ref, (type_, _info, life) in list(self.pending.items()):
                if life == self.life:  # sent on this socket, never answered: not counted either way
                    del self.pending[ref]
                    self.ledger.unacked[type_] += 1
            try:
                await asyncio.wait_for(ws.close(), 3)
            except Exception:
                pass
            code = ws.close_code
            self.stats[f"close_{code}"] += 1

    async def _read(self, ws, life):
        from websockets.exceptions import ConnectionClosed

        waiting = False  # a heartbeat `ping` is out
        while True:
            timeout = OPEN_TIMEOUT if not self.open else (HEARTBEAT_TIMEOUT if waiting else HEARTBEAT)
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout)
            except TimeoutError:
                if waiting or not self.open:
                    self.stats["heartbeat_drops"] += 1
                    await ws.close(4000)
                    return
                waiting = True
                await self._send(ws, {"type": "ping"})
                continue
            except ConnectionClosed:
                return
            waiting = False
            try:
                frame = json.loads(raw)
            except (TypeError, ValueError):
                self.stats["bad_frames"] += 1
                continue
            if not isinstance(frame, dict) or frame.get("identifier") != servers.IDENTIFIER:
                self.stats["bad_frames"] += 1
                continue
            verdict = await self._handle(ws, life, frame)
            if verdict is not None:  # a resync, or a gap: reconnect with the recovery parameter
                await ws.close(4000)
                return

    async def _send(self, ws, frame):
        from websockets.exceptions import ConnectionClosed

        try:
            await ws.send(json.dumps({"identifier": servers.IDENTIFIER, **frame}))
            return True
        except ConnectionClosed:
            return False

    async def request(self, type_, fields, info=None):
        """Send a frame with a unique ref if the socket is open; the ledger keeps its ack. The ref or None."""
        ws = self.ws
        if ws is None or not self.open:
            return None
        ref = f"u{self.user_id}-{next(self._refs)}"
        self.pending[ref] = (type_, info, self.life)
        if not await self._send(ws, {"type": type_, "ref": ref, **fields}):
            self.pending.pop(ref, None)  # never reached the server as far as we know: not counted
            return None
        self.ledger.sent[type_] += 1
        return ref

    # --- frames ------------------------------------------------------------------------------------
    async def _handle(self, ws, life, frame):
        t = self.ledger.now()
        kind = frame.get("type")
        if kind == "connection":
            self.open = True
            self.attempt = 0
            self.groups = set(frame.get("groups") or ())
            if self.mode == STREAM:
                self._on_connection(frame, t)
            return None
        if kind == "ping":
            await self._send(ws, {"type": "pong", **({"ref": frame["ref"]} if "ref" in frame else {})})
            self.stats["server_pings"] += 1
            return None
        if kind in ("ack", "error", "pong"):
            entry = self.pending.pop(frame.get("ref"), None)
            if entry is not None:
                self._answered(entry, frame, t)
            elif kind == "error":
                self.stats[f"error_{frame.get('code')}"] += 1
            return None
        if kind == "resync":
            reason = frame.get("reason")
            self.stats[f"resync_{reason}"] += 1
            if self.mode == STREAM and reason == "retention":  # the resume point is gone: start afresh
                self.stream_notes.append((t, life, "resync retention", self._resume_point))
                self.seen_seq = self.conn_seq = None
                self.streams = {}
            return "resync"
        if kind in STATEFUL or kind.startswith("custom."):
            if self.mode == STREAM and self._check_position(frame, life, t) == "gap":
                return "gap"
            self._record(life, frame, t)
            return None
        self.stats[f"other_{kind}"] += 1
        return None

    def _answered(self, entry, frame, t):
        type_, info, _life = entry
        if frame["type"] == "error":
            self.ledger.errors[f"{type_}:{frame.get('code')}"] += 1
            return
        if type_ == "sendmessage" and isinstance(frame.get("id"), int):
            self.ledger.messages[frame["id"]] = (info, self.user_id, t, frame.get("relayed", True))
        elif type_ == "postlike" and "postid" in frame:
            key = (frame["postid"], self.user_id, bool(frame["liked"]))
            self.ledger.likes[key] = (frame.get("likes_count"), t)
            if frame["liked"]:
                self.liked_posts.add(frame["postid"])
        elif type_ == "read" and frame.get("changed"):
            self.ledger.reads[(info, self.user_id, frame["message_id"])] = t

    def _record(self, life, frame, t):
        kind = frame["type"]
        self.last_event_at = t
        if kind == "sendmessage":
            mid = frame.get("id")
            if isinstance(mid, int):
                self.last_message_id = max(self.last_message_id, mid)  # kirimin.js noteMessageId
                self.receipts.append((life, "message", mid, frame.get("groupid"), t))
                group = frame.get("groupid")
                self.newest[group] = max(self.newest.get(group, 0), mid)
        elif kind == "read" and frame.get("groupid") is not None:
            key = (frame["groupid"], (frame.get("user") or {}).get("id"), frame.get("message_id"))
            self.receipts.append((life, "read", key, None, t))
        elif kind == "postlike":
            key = (frame.get("postid"), frame.get("userid"), bool(frame.get("liked")))
            self.receipts.append((life, "postlike", key, frame.get("likes_count"), t))
        else:
            self.stats[f"got_{kind}"] += 1

    # --- the stream protocol ---------------------------------------------------------------------
    def _mine(self, name):
        kind, _, raw = name.partition(":")
        return (kind == "user" and raw == str(self.user_id)) or (kind == "group" and raw.isdigit()
                                                                and int(raw) in self.groups)

    def _on_connection(self, frame, t):
        seq = frame.get("seq")
        if not isinstance(seq, int):
            self.no_seq = True
            return
        streams = {k: v for k, v in (frame.get("streams") or {}).items() if isinstance(v, int)}
        if not self._resuming or self.seen_seq is None:
            # A fresh socket: this is where it starts; the streams' offsets are the baseline.
            self.streams = dict(streams)
            self.seen_seq = seq
        else:
            for name, offset in streams.items():
                last = self.streams.get(name)
                if last is None:
                    self.streams[name] = offset  # a stream of ours we did not track yet
                elif seq <= self._resume_point and offset != last:
                    # At (or before) our resume point the server's offsets should be ours.
                    self.stream_notes.append((t, self.life, f"connection at seq {seq} says {name}={offset}, "
                                                            f"we have {last}", self._resume_point))
        self.conn_seq = seq

    def _check_position(self, frame, life, t):
        """'gap' (frame not taken), 'duplicate' (taken, and counted) or 'ok'."""
        seq = frame.get("seq")
        streams = frame.get("streams") or {}
        if not isinstance(seq, int):
            self.stats["stateful_without_seq"] += 1
            return "ok"
        if self.seen_seq is not None and seq <= self.seen_seq:
            self.seq_duplicates.append((t, life, seq, self.seen_seq, frame["type"]))
            return "duplicate"
        gaps = [(name, self.streams[name], offset) for name, offset in streams.items()
                if name in self.streams and isinstance(offset, int) and offset > self.streams[name] + 1]
        if gaps:
            self.gaps.append((t, life, gaps, frame["type"]))
            return "gap"
        for name, offset in streams.items():
            if not isinstance(offset, int):
                continue
            last = self.streams.get(name)
            self.stats["offsets_checked"] += last is not None
            if last is None:
                if self._mine(name) or (frame["type"] == "join" and name.startswith("group:")):
                    self.streams[name] = offset  # a group joined since the connection frame
            elif offset <= last:
                self.stats["stream_offset_repeats"] += 1
            else:
                self.streams[name] = offset
        self.seen_seq = seq
        return "ok"


# --- judging ------------------------------------------------------------------------------------------
def analyse(ledger, clients, members_of):
    """Count, per (member, acknowledged event): lost (0 deliveries), duplicated (>1, across every socket
    life of that user), and order (per socket life and per group, message ids must increase; across the
    whole history of a client, no id first seen after a higher one of the same group: an inversion).

    `members_of`: group id -> set of user ids (fixed during the test). Returns a dict of figures and
    the lists behind them."""
    messages, likes, reads = ledger.messages, ledger.likes, ledger.reads
    out = {
        "lost": [], "duplicated": [], "life_order": [], "inversions": [], "foreign": [],
        "likes_lost": [], "likes_duplicated": [], "likes_foreign": [],
        "reads_lost": [], "reads_duplicated": [], "reads_foreign": [],
        "deliveries_expected": 0, "like_deliveries_expected": 0, "read_deliveries_expected": 0,
        "unacked_delivered": 0,
    }
    reads_by_group = collections.defaultdict(list)
    for key in reads:
        reads_by_group[key[0]].append(key)
    likes_by_group = collections.defaultdict(list)
    for key in likes:
        likes_by_group[ledger.post_group.get(key[0])].append(key)
    messages_by_group = collections.defaultdict(list)
    for mid, (group, *_rest) in messages.items():
        messages_by_group[group].append(mid)

    for client in clients:
        uid = client.user_id
        got_messages = collections.Counter()
        got_likes = collections.Counter()
        got_reads = collections.Counter()
        last_in_life = {}
        highest = {}
        seen = set()
        for life, kind, key, _extra, t in client.receipts:
            if kind == "message":
                if key not in messages:
                    out["unacked_delivered"] += 1
                    continue
                group = messages[key][0]
                got_messages[key] += 1
                if uid not in members_of.get(group, ()):
                    out["foreign"].append((uid, key, group, t))
                previous = last_in_life.get((life, group))
                if previous is not None and key < previous:
                    out["life_order"].append((uid, group, previous, key, t, life))
                last_in_life[(life, group)] = key
                if key not in seen:
                    seen.add(key)
                    top = highest.get(group, 0)
                    if key < top:
                        out["inversions"].append((uid, group, top, key, t))
                    highest[group] = max(top, key)
            elif kind == "postlike":
                if key not in likes:
                    continue
                got_likes[key] += 1
                if uid not in members_of.get(ledger.post_group.get(key[0]), ()):
                    out["likes_foreign"].append((uid, key, t))
            elif kind == "read":
                got_reads[key] += 1
                if uid not in members_of.get(key[0], ()):
                    out["reads_foreign"].append((uid, key, t))
        for group, members in members_of.items():
            if uid not in members:
                continue
            _judge(out, "", uid, group, [(mid, messages[mid][2]) for mid in messages_by_group.get(group, ())],
                   got_messages)
            _judge(out, "like", uid, group, [(key, likes[key][1]) for key in likes_by_group.get(group, ())],
                   got_likes)
            # A group's read receipt reaches every member, the reader too.
            _judge(out, "read", uid, group, [(key, reads[key]) for key in reads_by_group.get(group, ())], got_reads)
    return out


def _judge(out, kind, uid, group, expected, got):
    """Count one member's deliveries of `expected` (event, ack time) pairs: lost, duplicated."""
    prefix = f"{kind}_" if kind else ""
    for event, acked_at in expected:
        out[f"{prefix}deliveries_expected"] += 1
        n = got.get(event, 0)
        if n == 0:
            out[f"{kind}s_lost" if kind else "lost"].append((uid, event, group, acked_at))
        elif n > 1:
            out[f"{kind}s_duplicated" if kind else "duplicated"].append((uid, event, group, n, acked_at))


def by_phase(ledger, items, time_index):
    """Counter of phase name -> items, each item attributed by its time (`item[time_index]`)."""
    counts = collections.Counter(ledger.phase_at(item[time_index]) for item in items)
    return {name: counts.get(name, 0) for name in ledger.phase_names() if name != "setup" or counts.get(name)}
