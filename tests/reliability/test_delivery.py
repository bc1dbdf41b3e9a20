"""Delivery guarantee under faults, seen from the clients: every acknowledged event reaches every
socket entitled to it exactly once, in order.

The production stack only: two uvicorn processes on one PostgreSQL database and a Redis of the
test's own (tests/servers.RedisServer). 60 users in 6 public groups of 10 (each group has members
on both processes at the start); each user has ONE socket kept by a client that behaves like
config/static/app/kirimin.js (tests/reliability/stream_client.py): backoff, a fresh ticket from
is-user, reconnect to either process with its recovery parameter, resync, ping/pong.

While traffic flows (18 senders, 3 per group, send `sendmessage` at ~2/s each with a unique ref;
12 likers, 2 per group, like and later unlike the group's posts; 12 readers, 2 per group, send
`read` up to the newest message they got, which relays a read receipt to every member; and
everyone's reconnects relay `presence` to their groups), the test breaks things, spaced
by several seconds with a random jitter:
  1. Redis SIGKILLed, restarted on the same port 3 s later (twice, at different moments);
  2. `CLIENT KILL TYPE pubsub` on that Redis (every process's subscriber connection);
  3. SIGKILL of one server process, restarted on its port;
  4. SIGTERM of the other (a deploy), restarted;
with fault-free stretches (two processes committing concurrently) before, between and after.
After the traffic stops and things settle, every client reconnects once more with its recovery
parameter and collects until quiet. Then, per (member, acknowledged event): lost (0 deliveries),
duplicated (>1, by identity across every socket life of that user, replays included), out of
order within a socket life, and inversions (an id first seen after a higher one of the same group
was seen, across the client's whole history). Only acknowledged events count: a frame whose
socket closed before its ack is counted neither way.

Two client modes (parametrized):
- `legacy`: reconnect with `&since=<newest message id seen>`, as kirimin.js does today. Only
  `sendmessage` is recoverable that way (SPEC §6 rule 7), so its figures are asserted; the
  like and read figures are reported.
- `stream`: the stream protocol (`seq`, `streams`, `&resume=`; see stream_client.py). Skipped
  when the server's `connection` frame has no `seq`. Everything is asserted, likes and read
  receipts included, plus zero client-detected gaps and zero duplicates by seq.

Knobs: DELIVERY_SECONDS (traffic, default 80), DELIVERY_SEED (the random plan), DELIVERY_BACKOFF_MAX
(the backoff cap in s, default 4: kirimin.js uses 15).
"""

import asyncio
import collections
import concurrent.futures
import os
import random
import time

import pytest

from tests import servers
from tests.conftest import needs_postgres, needs_redis
from tests.reliability import report
from tests.reliability import stream_client as sc
from tests.reliability.conftest import UNLIMITED
from tests.reliability.stream_client import LEGACY, STREAM, Backoff, Ledger, StreamClient

pytestmark = [pytest.mark.processes, needs_redis, needs_postgres, pytest.mark.usefixtures("server_logs_on_failure")]

TRAFFIC_S = float(os.environ.get("DELIVERY_SECONDS", 80))
BACKOFF = Backoff(initial=0.5, factor=2, max=float(os.environ.get("DELIVERY_BACKOFF_MAX", 4)), jitter=0.3)
USERS, GROUP_SIZE = 60, 10
SENDERS_PER_GROUP, LIKERS_PER_GROUP, READERS_PER_GROUP, POSTS_PER_GROUP = 3, 2, 2, 20
SEND_EVERY = 0.5  # s between a sender's messages (~2/s), jittered
LIKE_EVERY = 1.2  # s between a liker's like/unlike frames, jittered
READ_EVERY = 1.5  # s between a reader's `read` frames (up to the newest message it got), jittered
# When each fault starts, as a fraction of the traffic time (plus up to FAULT_JITTER s). Redis goes
# down twice: whether a restart loses messages depends on where it falls in the servers' upkeep cycle.
FAULTS = [(0.08, "redis_restart"), (0.24, "pubsub_kill"), (0.40, "sigkill"), (0.56, "redis_restart_2"),
          (0.72, "sigterm")]
FAULT_JITTER = 2.5
AFTERMATH_S = 6.0  # s after a fault has ended (sockets back) when a fault-free stretch starts
SETTLE_S, QUIET_S = 3.0, 2.0


# --- the world: users, groups, posts, through the REST API --------------------------------------------
def build_world(procs, ledger, tag):
    """60 users (registered alternately on both processes), 6 public groups of 10, 20 posts in each."""
    https = [proc.client() for proc in procs]
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        users = list(pool.map(lambda n: https[n % 2].register(f"d{tag}{n:02d}"), range(USERS)))
        groups = {}  # group id -> [user index]
        for start in range(0, USERS, GROUP_SIZE):
            owner = users[start]
            group = https[0].data("POST", "/api/groups/", {"name": f"delivery {tag} {start // GROUP_SIZE}",
                                                           "description": "", "is_private": False},
                                  token=owner["access"], expect=201)
            members = list(range(start, start + GROUP_SIZE))
            list(pool.map(lambda n, g=group["id"]: https[n % 2].data("POST", f"/api/groups/{g}/join/",
                                                                      token=users[n]["access"]), members[1:]))
            groups[group["id"]] = members

        def post(args):
            group_id, n, k = args
            return group_id, https[k % 2].data("POST", "/api/posts/", {"content": f"post {k}", "group_id": group_id},
                                               token=users[n]["access"], expect=201)["id"]

        jobs = [(g, members[k % GROUP_SIZE], k) for g, members in groups.items() for k in range(POSTS_PER_GROUP)]
        for group_id, post_id in pool.map(post, jobs):
            ledger.post_group[post_id] = group_id
    return users, groups


async def require_stream_protocol(proc):
    user = await asyncio.to_thread(proc.client().register)
    ws, first = await servers.open_socket(user["socket"])
    await ws.close()
    if not isinstance(first.get("seq"), int):
        pytest.skip("stream mode: the server's `connection` frame has no `seq` field, so the stream protocol "
                    f"(seq, streams, &resume=) is not on this server yet (got {sorted(first)})")


# --- traffic and faults -------------------------------------------------------------------------------
async def until(ledger, t):
    await asyncio.sleep(max(0.0, t - ledger.now()))


async def sender(client, group_id, ledger, end, rng):
    await asyncio.sleep(rng.random() * SEND_EVERY)
    n = 0
    while ledger.now() < end:
        n += 1
        await client.request("sendmessage", {"groupid": group_id, "message": f"{client.user_id}:{n}"}, info=group_id)
        await asyncio.sleep(SEND_EVERY * rng.uniform(0.6, 1.4))


async def liker(client, post_ids, ledger, end, rng):
    """Like each post once, unlike each acknowledged like once: every event is unique by
    (post, liker, liked), and every frame sent changes something (so it relays an event)."""
    untouched = list(post_ids)
    rng.shuffle(untouched)
    unliked = set()
    await asyncio.sleep(rng.random() * LIKE_EVERY)
    while ledger.now() < end:
        can_unlike = sorted(client.liked_posts - unliked)
        if can_unlike and (not untouched or rng.random() < 0.5):
            post_id = rng.choice(can_unlike)
            if await client.request("postlike", {"postid": post_id, "liked": False}, info=post_id):
                unliked.add(post_id)
        elif untouched:
            post_id = untouched[-1]
            if await client.request("postlike", {"postid": post_id, "liked": True}, info=post_id):
                untouched.pop()
        await asyncio.sleep(LIKE_EVERY * rng.uniform(0.6, 1.4))


async def reader(client, group_id, ledger, end, rng):
    """Read the group up to the newest message received, now and then: each marker that moves
    relays a read receipt (`read`) to every member, and `unread` to the reader."""
    await asyncio.sleep(rng.random() * READ_EVERY)
    while ledger.now() < end:
        newest = client.newest.get(group_id)
        if newest:
            await client.request("read", {"groupid": group_id, "message_id": newest}, info=group_id)
        await asyncio.sleep(READ_EVERY * rng.uniform(0.6, 1.4))


def kill_subscribers(port):
    import redis

    client = redis.Redis(port=port, socket_connect_timeout=2)
    try:
        return client.client_kill_filter(_type="pubsub")
    finally:
        client.close()


async def inject_faults(ledger, own_redis, procs, rng, start, faults_log):
    """The faults, in order, each at its time plus a random jitter. A few seconds after each one has
    ended (its reconnects done), a fault-free stretch begins: `no_fault_<n>` in the figures."""
    plan = [(start + fraction * TRAFFIC_S + rng.uniform(0, FAULT_JITTER), name) for fraction, name in FAULTS]
    for n, (at, name) in enumerate(plan, start=1):
        await until(ledger, at)
        ledger.phase(name)
        began = ledger.now()
        if name.startswith("redis_restart"):
            await asyncio.to_thread(own_redis.kill)
            await asyncio.sleep(3)
            await asyncio.to_thread(own_redis.start)
            detail = "SIGKILL, restarted 3 s later"
        elif name == "pubsub_kill":
            detail = f"{await asyncio.to_thread(kill_subscribers, own_redis.port)} subscriber connections killed"
        elif name == "sigkill":
            victim = procs[0]
            await asyncio.to_thread(victim.kill)
            await asyncio.sleep(rng.uniform(0.5, 1.5))
            procs[0] = await asyncio.to_thread(victim.start_again)
            detail = f"process :{victim.port} SIGKILL, restarted"
        elif name == "sigterm":
            victim = procs[1]
            await asyncio.to_thread(victim.stop)  # SIGTERM, waits for the exit (SIGKILL after 10 s)
            procs[1] = await asyncio.to_thread(victim.start_again)
            detail = f"process :{victim.port} SIGTERM (exit {victim.process.returncode}), restarted"
        else:
            raise AssertionError(f"unknown fault {name}")
        faults_log.append((name, round(began, 1), round(ledger.now() - began, 1), detail))
        calm = ledger.now() + AFTERMATH_S
        if calm < (plan[n][0] if n < len(plan) else start + TRAFFIC_S):
            await until(ledger, calm)
            ledger.phase(f"no_fault_{n}")


async def wait_for(predicate, timeout, step=0.1):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(step)
    return True


# --- reporting ------------------------------------------------------------------------------------------
def table(rows, headers):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(str(h).ljust(w) for h, w in zip(headers, widths, strict=True))
    body = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join([line, "  ".join("-" * w for w in widths), *body])


def summarise(mode, seed, ledger, clients, result, faults_log, traffic_s, elapsed):
    stats = sum((c.stats for c in clients), start=collections.Counter())
    gaps = sum(len(c.gaps) for c in clients)
    seq_dups = sum(len(c.seq_duplicates) for c in clients)
    lost_ids = {mid for _, mid, _, _ in result["lost"]}
    figures = {
        "mode": mode,
        "users": USERS, "groups": USERS // GROUP_SIZE, "processes": 2,
        "traffic_s": round(traffic_s, 1),
        "messages_acked": len(ledger.messages),
        "messages_unacked": ledger.unacked["sendmessage"],
        "acked_unrelayed": sum(1 for m in ledger.messages.values() if m[3] is False),
        "deliveries_expected": result["deliveries_expected"],
        "lost": len(result["lost"]),
        "lost_messages": len(lost_ids),
        "duplicated": len(result["duplicated"]),
        "life_order": len(result["life_order"]),
        "inversions": len(result["inversions"]),
        "likes_acked": len(ledger.likes),
        "like_deliveries_expected": result["like_deliveries_expected"],
        "likes_lost": len(result["likes_lost"]),
        "likes_duplicated": len(result["likes_duplicated"]),
        "reads_acked": len(ledger.reads),
        "read_deliveries_expected": result["read_deliveries_expected"],
        "reads_lost": len(result["reads_lost"]),
        "reads_duplicated": len(result["reads_duplicated"]),
        "client_gaps": gaps,
        "seq_duplicates": seq_dups,
        "offsets_checked": stats["offsets_checked"],
        "offset_repeats": stats["stream_offset_repeats"],
        "streams_tracked": sum(len(c.streams) for c in clients),
        "sockets": stats["sockets"],
        "recoveries": stats["recoveries"],
        "resyncs": sum(v for k, v in stats.items() if k.startswith("resync_")),
        "elapsed_s": round(elapsed, 1),
    }
    per_phase = {
        "msgs_acked": sc.by_phase(ledger, [(m[2],) for m in ledger.messages.values()], 0),
        "lost_ids": sc.by_phase(ledger, [(t,) for t in {mid: t for _, mid, _, t in result["lost"]}.values()], 0),
        "lost": sc.by_phase(ledger, result["lost"], 3),
        "duplicated": sc.by_phase(ledger, result["duplicated"], 4),
        "life_order": sc.by_phase(ledger, result["life_order"], 4),
        "inversions": sc.by_phase(ledger, result["inversions"], 4),
        "likes_acked": sc.by_phase(ledger, [(v[1],) for v in ledger.likes.values()], 0),
        "likes_lost": sc.by_phase(ledger, result["likes_lost"], 3),
        "likes_dup": sc.by_phase(ledger, result["likes_duplicated"], 4),
        "reads_lost": sc.by_phase(ledger, result["reads_lost"], 3),
        "gaps": sc.by_phase(ledger, [g for c in clients for g in c.gaps], 0),
        "seq_dups": sc.by_phase(ledger, [d for c in clients for d in c.seq_duplicates], 0),
    }
    phases = [p for p in ledger.phase_names() if p != "setup"]
    starts = {name: round(t, 1) for t, name in ledger.phases}
    rows = [[p, starts[p], *(per_phase[k].get(p, 0) for k in per_phase)] for p in phases]
    text = [
        f"\n===== delivery, {mode} mode (seed {seed}) =====",
        table([[k, v] for k, v in figures.items()], ["figure", "value"]),
        "\nfaults (start s, duration s):",
        table([list(f) for f in faults_log] or [["none", "", "", ""]], ["fault", "at_s", "took_s", "detail"]),
        "\nby phase (events attributed by ack time, order problems by arrival time; lost and duplicated "
        "count (member, event) pairs, lost_ids distinct messages):",
        table(rows, ["phase", "from_s", *per_phase]),
        f"\nclient stats: {dict(sorted(stats.items()))}",
        f"errors answered: {dict(ledger.errors)}; frames sent: {dict(ledger.sent)}; "
        f"unanswered (socket closed): {dict(ledger.unacked)}; unacked messages delivered: "
        f"{result['unacked_delivered']}; foreign deliveries: {len(result['foreign'])}",
    ]
    if lost_ids:
        text.append(f"lost message ids ({len(lost_ids)}): {sorted(lost_ids)[:40]}")
    for name in ("lost", "duplicated", "life_order", "inversions", "likes_lost", "likes_duplicated", "reads_lost",
                 "reads_duplicated"):
        if result[name]:
            text.append(f"first {name}: {result[name][:8]}")
    for client in clients:
        for gap in client.gaps[:2]:
            text.append(f"gap at user {client.user_id}: {gap}")
        for dup in client.seq_duplicates[:2]:
            text.append(f"seq duplicate at user {client.user_id}: {dup}")
        for note in client.stream_notes[:2]:
            text.append(f"stream note at user {client.user_id}: {note}")
    lost_by_phase = " ".join(f"{p}:{n}" for p, n in per_phase["lost_ids"].items() if n)
    inversions_by_phase = " ".join(f"{p}:{n}" for p, n in per_phase["inversions"].items() if n)
    figures["lost_ids_by_phase"] = lost_by_phase or "-"
    figures["inversions_by_phase"] = inversions_by_phase or "-"
    return figures, "\n".join(text)


# --- the test -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", [LEGACY, STREAM])
async def test_every_acknowledged_event_arrives_once_in_order(mode, own_redis_stack, own_redis):
    began = time.monotonic()
    seed = int(os.environ.get("DELIVERY_SEED", random.randrange(1_000_000)))
    rng = random.Random(seed)
    procs = [servers.Server.start(own_redis_stack, wait=False, server="uvicorn", RELAY_PRESENCE_TTL=5, **UNLIMITED)
             for _ in range(2)]
    executor = concurrent.futures.ThreadPoolExecutor(32, thread_name_prefix="delivery-http")
    ledger = Ledger()
    clients = []
    tasks = []
    try:
        for proc in procs:
            proc.wait_ready()
        if mode == STREAM:
            await require_stream_protocol(procs[0])
        users, groups = await asyncio.to_thread(build_world, procs, ledger, f"{mode[0]}{seed}")
        members_of = {g: {users[n]["user"]["id"] for n in members} for g, members in groups.items()}
        urls = [proc.base_url for proc in procs]
        clients = [StreamClient(user=user, urls=urls, mode=mode, ledger=ledger, rng=random.Random(rng.random()),
                                backoff=BACKOFF, executor=executor, first_server=n % 2)
                   for n, user in enumerate(users)]
        for client in clients:
            client.start()
        assert await wait_for(lambda: all(c.open for c in clients), 30), "not every client connected"
        if mode == STREAM:
            assert not any(c.no_seq for c in clients)

        ledger.phase("no_fault_0")
        start = ledger.now()
        end = start + TRAFFIC_S
        posts_of = {}
        for post_id, group_id in ledger.post_group.items():
            posts_of.setdefault(group_id, []).append(post_id)
        faults_log = []
        for group_id, members in groups.items():
            for n in members[:SENDERS_PER_GROUP]:
                tasks.append(asyncio.create_task(sender(clients[n], group_id, ledger, end, random.Random(rng.random()))))
            for n in members[SENDERS_PER_GROUP:SENDERS_PER_GROUP + LIKERS_PER_GROUP]:
                tasks.append(asyncio.create_task(liker(clients[n], posts_of[group_id], ledger, end,
                                                       random.Random(rng.random()))))
            readers = members[SENDERS_PER_GROUP + LIKERS_PER_GROUP:SENDERS_PER_GROUP + LIKERS_PER_GROUP + READERS_PER_GROUP]
            for n in readers:
                tasks.append(asyncio.create_task(reader(clients[n], group_id, ledger, end, random.Random(rng.random()))))
        fault_task = asyncio.create_task(inject_faults(ledger, own_redis, procs, rng, start, faults_log))
        await asyncio.gather(*tasks)
        await fault_task
        traffic_s = ledger.now() - start

        # Settle: answers in flight arrive, every client is back.
        ledger.phase("settle")
        await asyncio.sleep(SETTLE_S)
        all_back = await wait_for(lambda: all(c.open for c in clients), 30)
        # Every client reconnects once more with its recovery parameter and collects until quiet.
        ledger.phase("final_reconnect")
        marks = {c: c.life for c in clients}
        await asyncio.gather(*(c.reconnect_now() for c in clients))
        reconnected = await wait_for(lambda: all(c.open and c.life > marks[c] for c in clients), 30)
        await wait_for(lambda: ledger.now() - max(c.last_event_at for c in clients) > QUIET_S, 20)
        await asyncio.gather(*(c.stop() for c in clients))

        result = sc.analyse(ledger, clients, members_of)
        figures, text = summarise(mode, seed, ledger, clients, result, faults_log, traffic_s,
                                  time.monotonic() - began)
        print(text)
        report.record("delivery", **figures)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(c.stop() for c in clients), return_exceptions=True)
        executor.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.stop()
        if own_redis.process.poll() is not None:
            own_redis.start()

    problems = []
    if not all_back or not reconnected:
        problems.append(f"not every client came back (settled: {all_back}, final reconnect: {reconnected})")
    for name in ("lost", "duplicated", "life_order", "inversions"):
        if figures[name]:
            problems.append(f"{figures[name]} {name} (member, message) deliveries")
    if mode == STREAM:
        for name in ("likes_lost", "likes_duplicated", "reads_lost", "reads_duplicated", "client_gaps",
                     "seq_duplicates", "offset_repeats"):
            if figures[name]:
                problems.append(f"{figures[name]} {name}")
        if not figures["offsets_checked"]:  # else gap detection saw nothing: the frames' `streams` names differ
            problems.append("no stream offset was checked (no frame's `streams` named a stream of the connection frame)")
    assert figures["messages_acked"] > 0 and figures["likes_acked"] > 0 and figures["reads_acked"] > 0, text
    assert not problems, "; ".join(problems) + "\n" + text
