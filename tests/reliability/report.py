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
EXPECTED = ("redis_outage", "sigkill", "fuzz", "soak", "idle", "connect_storm", "slow_consumer")
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
     "with sockets open. During the outage REST and socket sends are stored and answered with "
     "`\"relayed\": false`; reads keep working; new tickets get 503 `service_unavailable`. When Redis is "
     "back every open socket gets a `resync` frame, relaying resumes by itself (`resumed_s`: from the "
     "restart to the first live delivery), and a client reconnecting with `since=` gets every stored "
     "message exactly once."),
    ("sigkill", "A server process is killed",
     "Two processes on one Redis; the one holding bob's and carol's sockets gets SIGKILL. Messages sent "
     "meanwhile on the other process reach bob, reconnected there with a fresh ticket and `since=`, once "
     "each and in order; carol, who does not come back, drops offline after `presence_expired_s`."),
    ("fuzz", "Hostile frames", "Generated frames against a live socket (hypothesis)."),
    ("soak", "Soak", "Sockets, mixed frames for a bounded time; sent, stored and delivered must agree exactly."),
    ("idle", "Long-lived sockets", "Sockets left idle, then a relayed event: it must arrive at once."),
    ("connect_storm", "Connection storm", "Sockets connecting at once on the Redis layer."),
    ("slow_consumer", "A client that never reads",
     "A socket that stops reading while events keep coming is closed with 4008 once its send buffer "
     "passes `RELAY_MAX_SEND_BUFFER`; the server's memory stays bounded."),
]


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
    parts.append("<!-- raw: " + json.dumps(_records) + " -->\n")
    DOC.write_text("\n".join(parts))
