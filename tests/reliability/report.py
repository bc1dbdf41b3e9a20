"""Figures the reliability tests measure, written to docs/reliability.md by the run that made them.

Tests call `record(kind, **figures)`. At the end of a session that ran on the
production stack (REDIS_URL set) and recorded every kind in `EXPECTED`, the root
conftest calls `write()`; a partial run (`-k`, one file) leaves the document alone.
"""

import datetime
import json
import os
import platform
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
EXPECTED = ("redis_outage", "subscriber_dropped", "sigkill", "fuzz", "soak", "idle", "connect_storm", "slow_consumer",
            "delivery")
_records: list[tuple[str, dict]] = []


def record(kind, **figures):
    _records.append((kind, figures))


def records(kind):
    return [figures for k, figures in _records if k == kind]


def complete():
    return all(records(kind) for kind in EXPECTED)


def _table(rows):
    if not rows:
        return "_not run_\n"
    keys = list(dict.fromkeys(k for row in rows for k in row))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(row.get(k, "")) for k in keys) + " |" for row in rows]
    return "\n".join(lines) + "\n"


SECTIONS = [
    ("redis_outage", "Redis goes away and comes back",
     "Two server processes on a Redis of the test's own, killed (SIGKILL) and restarted on the same port "
     "with sockets open, on each channel layer. During the outage REST and socket sends are stored and "
     "answered with `\"relayed\": false`; reads keep working; new tickets get 503 `service_unavailable`, "
     "and a socket whose ticket cannot be checked is closed with 1013 (try again). When Redis is back, "
     "with production timing and no `resync`, bob's open socket gets both messages stored during the "
     "outage (`delivered_live` of `stored_during_outage`) and then the next one, in order with no gap in "
     "his stream's offsets (his process read them back from the stream); `resumed_s` runs from the "
     "restart to that delivery. A client reconnecting with `since=` gets every stored message exactly "
     "once."),
    ("subscriber_dropped", "Redis drops the subscriber connections",
     "Two processes on the pub/sub layer; alice on one sends 60 direct messages to bob on the other, "
     "one every ~30 ms, and the test kills both processes' subscriber connections (`CLIENT KILL TYPE "
     "pubsub`, what Redis does to a subscriber over its output-buffer limit) while she sends. bob's open "
     "socket gets every acknowledged message once and in order, with no `resync` (`delivered` of "
     "`acknowledged`, `lost`)."),
    ("sigkill", "A server process is killed",
     "Two processes on one Redis; the one holding bob's and carol's sockets gets SIGKILL. Messages sent "
     "meanwhile on the other process reach bob, reconnected there with a fresh ticket and `since=`, once "
     "each and in order, and live delivery follows; carol, who does not come back, drops offline after "
     "`presence_expired_s` (the test's `RELAY_PRESENCE_TTL` is 3 s)."),
    ("delivery", "Every acknowledged event, once, in order, through faults",
     "Two uvicorn processes on one PostgreSQL database and a Redis of the test's own; 60 users in 6 "
     "public groups of 10, each with one socket kept by a client that behaves like `kirimin.js` "
     "(backoff, a fresh ticket, reconnect to either process with its recovery parameter, `resync`, "
     "ping/pong). 18 senders send group messages at ~2/s, 12 likers like and unlike the groups' posts "
     "and 12 readers send `read` up to the newest message they got (each marker that moves relays a read "
     "receipt to every member of the group), and every reconnect relays `presence` to the user's groups, "
     "while the test kills Redis twice (restarted 3 s later each time), kills the processes' pub/sub "
     "connections, SIGKILLs one process and SIGTERMs the other (each restarted), with fault-free "
     "stretches between. Then every "
     "client reconnects once more and collects until quiet. Per (member, acknowledged event): `lost` "
     "(never delivered), `duplicated` (more than once across all of that user's socket lives), "
     "`life_order` (a lower id after a higher one of the same group on one socket) and `inversions` (an "
     "id first seen after a higher one, across the client's history). Mode `legacy` reconnects with "
     "`since=<newest message id>` (only messages are recoverable that way, so likes and read receipts "
     "are reported, not asserted); mode `stream` with `resume=<seq>`, asserting likes, read receipts, "
     "client-detected gaps and seq duplicates too (`test_delivery.py`)."),
    ("fuzz", "Hostile frames",
     "Generated frames (hypothesis) against a live socket of a real server: wrong types, huge numbers, "
     "deep nesting, odd Unicode, binary and empty frames. Every one is answered by an `error` with a "
     "SPEC code, never a server error; the socket keeps answering; nothing is stored."),
    ("soak", "Soak",
     "100 users with 5 sockets each (two processes on the production stack), in 10 groups; mixed frames "
     "(group and direct messages, typing, likes, pings) for a bounded time. Every acknowledged message is "
     "stored (`stored` = `messages_sent`), every socket received exactly the messages it should "
     "(`delivered` = `deliveries_expected`, `lost` and `duplicates` 0), the like count is exact. Server "
     "RSS per process before and after the load."),
    ("idle", "Long-lived sockets",
     "Sockets opened at the start of the test run and left idle (no frame either way) for `idle_s`, on "
     "each channel layer; then a message between two of them arrives in `delivered_in_ms`, with no "
     "`resync` and no layer error logged (the redis-py 5 s read-timeout trap)."),
    ("connect_storm", "Connection storm",
     "2000 sockets with real tickets connecting at once to one process, on each layer: none fails (no "
     "'Too many connections' from a Redis pool), and one group message then reaches all of them. The "
     "rate is that of a 2-core machine also running the 2000 clients and other tests; "
     "docs/performance.md has the benchmark figure."),
    ("slow_consumer", "A client that never reads",
     "A socket that stops reading while events keep coming is given up once its server-side send buffer "
     "passes `RELAY_MAX_SEND_BUFFER` (here `limit_kb`): the server logs that it closes it with 4008 and "
     "stops writing to it; the close frame itself sits behind data the client never read, so such a "
     "client sees its connection end rather than the code. The server's memory grew by `rss_growth_mb` "
     "at most while it happened (under daphne and uvicorn)."),
]


ALSO = """## Also broken on purpose, with no figure to report

- A hub's subscriber connection killed while nothing is being published: what was committed
  meanwhile is read back from the stream and written first, each once, in order, with no gap in the
  user's stream (`tests/relay/test_layer_recovery.py`; it fails with the hub's read-back disabled).
- A socket that connects while Redis is away is closed with 1013 (try again later), and one that
  connects as it comes back opens normally: new subscriptions wait for the layer's own reconnect
  instead of racing it (`test_faults.py`, `tests/relay/test_layer_recovery.py`). `/healthz/` leaves
  no Redis subscription behind.
- A process stopped with SIGTERM (a deploy): its users go offline at once, not after the TTL.
- Schemathesis against `/api/schema/` as a signed-in user, on a real server: no 500, every response
  matches the document (`tests/reliability/test_schemathesis.py`).
- Spoofed `from`/`userid`/`by` fields are ignored, and ids of things the caller may not see answer
  exactly like missing ones, over the socket and REST (`test_spoofing.py`).
- Abuse limits on a real server: a flood gets `rate_limited` frame by frame without harming other
  sockets, the per-user socket cap closes the extra socket with 4429, an oversize frame closes with
  1009 (`test_limits.py`); login throttling is in `tests/api`.
- Auth edges on real processes: one ticket raced on two processes opens exactly one socket, an
  expired access token at the handshake closes 4401, a refresh token reused after rotation is
  refused everywhere, a user deactivated from another process loses every open socket with 4403
  (`test_auth_edges.py`).

Residual risk, by design: on `RELAY_LAYER=core`, channels-redis drops a group message to a
process channel that already holds `RELAY_LAYER_CAPACITY` (10000) messages, with only a log line; a
process that far behind is overloaded. The default `pubsub` layer has no such queue.
"""


def write():
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        "# Reliability: what the fault tests broke, and what held\n",
        f"Written by the test run itself (`make test` on the production stack, {stamp}, "
        f"{platform.node() or 'this machine'}, {os.cpu_count()} cores) from the figures the tests in "
        "`tests/reliability/` measured. Every figure below is asserted by a test; this page only "
        "reports them.\n",
    ]
    for kind, title, text in SECTIONS:
        parts.append(f"## {title}\n\n{text}\n\n{_table(records(kind))}")
    parts.append(ALSO)
    parts.append("<!-- raw: " + json.dumps(_records) + " -->\n")
    DOC.write_text("\n".join(parts))
