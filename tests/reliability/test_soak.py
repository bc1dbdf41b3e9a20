"""Soak: hundreds of sockets and mixed frames for a bounded time; sent, stored and delivered agree exactly.

100 users with 5 sockets each (500 sockets; on the production stack spread over two
processes), in 10 groups of 10. For SOAK_SECONDS (default 60) every user sends
about SOAK_RATE frames/s from one of its sockets: group messages, direct messages,
typing and likes of one shared post. Then:
- every acknowledged message is stored, and nothing else is;
- every socket received exactly the messages it should (its user's groups and
  direct conversations): none missing, none twice, none foreign;
- the shared post's likes_count equals the likes left standing;
- the servers' memory before and after is reported, and bounded.
"""

import asyncio
import itertools
import json
import os
import random
import time

import pytest

from tests import servers
from tests.conftest import REDIS_URL
from tests.reliability import report
from tests.reliability.test_limits import rss_mb

pytestmark = [pytest.mark.processes, pytest.mark.soak, pytest.mark.usefixtures("server_logs_on_failure")]

SECONDS = float(os.environ.get("SOAK_SECONDS", 60))
RATE = float(os.environ.get("SOAK_RATE", 0.8))  # frames per user per second
USERS, SOCKETS_PER_USER, GROUP_SIZE = 100, 5, 10



class Socket:
    """One client socket: reads everything, keeps the message ids it got, answers acks by ref."""

    def __init__(self, ws, user_id):
        self.ws = ws
        self.user_id = user_id
        self.messages = []
        self.errors = []
        self.waiting = {}
        self.reader = asyncio.create_task(self.read())

    async def read(self):
        async for raw in self.ws:
            frame = json.loads(raw)
            kind = frame["type"]
            if kind == "sendmessage":
                self.messages.append(frame["id"])
            elif frame.get("ref") in self.waiting:  # the answer (ack, error, pong) to a call
                self.waiting.pop(frame["ref"]).set_result(frame)
            elif kind == "error":
                self.errors.append(frame)

    async def call(self, ref, type_, **fields):
        future = asyncio.get_running_loop().create_future()
        self.waiting[ref] = future
        await self.ws.send(json.dumps({"identifier": "kirimin", "type": type_, "ref": ref, **fields}))
        try:
            return await asyncio.wait_for(future, 15)
        except TimeoutError:
            reader = self.reader.exception() if self.reader.done() else "still reading"
            raise AssertionError(f"no answer to {type_} {ref} in 15 s (reader: {reader!r}, "
                                 f"socket {self.ws.state.name})") from None


async def test_soak(e2e_stack):
    procs = [servers.Server.start(e2e_stack, wait=False, server="uvicorn", RELAY_RATE=50, RELAY_BURST=100, THROTTLE_REGISTER="1000/min")
             for _ in range(2 if REDIS_URL else 1)]
    sockets = []
    try:
        for proc in procs:
            proc.wait_ready()
        https = [proc.client() for proc in procs]
        users = [https[n % len(https)].register() for n in range(USERS)]
        ids = [u["user"]["id"] for u in users]
        groups, group_of = [], {}
        for start in range(0, USERS, GROUP_SIZE):
            owner, *members = users[start:start + GROUP_SIZE]
            group = https[0].data("POST", "/api/groups/", {"name": f"soak{start}", "description": "",
                                                          "is_private": False}, token=owner["access"], expect=201)
            for member in members:
                https[0].data("POST", f"/api/groups/{group['id']}/join/", token=member["access"])
            groups.append((group["id"], ids[start:start + GROUP_SIZE]))
            for uid in ids[start:start + GROUP_SIZE]:
                group_of[uid] = group["id"]
        post = https[0].data("POST", "/api/posts/", {"content": "like me"}, token=users[0]["access"], expect=201)

        by_user = {}
        gate = asyncio.Semaphore(16)

        async def open_one(http, user):
            async with gate:
                ticket = await asyncio.to_thread(http.socket, user["access"])
                ws, _ = await servers.open_socket(ticket, max_queue=None)
            sock = Socket(ws, user["user"]["id"])
            sockets.append(sock)
            by_user.setdefault(sock.user_id, []).append(sock)

        await asyncio.gather(*(open_one(https[(n + k) % len(https)], user)
                               for n, user in enumerate(users) for k in range(SOCKETS_PER_USER)))
        await asyncio.sleep(1)
        rss_before = [rss_mb(proc.process.pid) for proc in procs]

        acked = {}  # message id -> (group id or None, recipient id or None, sender id)
        liked = {}
        counts = {"sendmessage_group": 0, "sendmessage_direct": 0, "typing": 0, "postlike": 0, "ping": 0}
        refs = itertools.count()
        deadline = time.monotonic() + SECONDS

        async def drive(uid, rng):
            mine = by_user[uid]
            group_id = group_of[uid]
            peers = [p for p in next(m for g, m in groups if g == group_id) if p != uid]
            await asyncio.sleep(rng.random() / RATE)
            while time.monotonic() < deadline:
                sock = rng.choice(mine)
                ref = f"{uid}-{next(refs)}"
                roll = rng.random()
                if roll < 0.5:
                    answer = await sock.call(ref, "sendmessage", groupid=group_id, message=f"g {ref}")
                    assert answer["type"] == "ack", answer
                    acked[answer["id"]] = (group_id, None, uid)
                    counts["sendmessage_group"] += 1
                elif roll < 0.7:
                    to = rng.choice(peers)
                    answer = await sock.call(ref, "sendmessage", to=to, message=f"d {ref}")
                    assert answer["type"] == "ack", answer
                    acked[answer["id"]] = (None, to, uid)
                    counts["sendmessage_direct"] += 1
                elif roll < 0.8:
                    answer = await sock.call(ref, "typing", groupid=group_id)
                    assert answer["type"] == "ack" or answer["code"] == "rate_limited", answer
                    counts["typing"] += 1
                elif roll < 0.9:
                    want = not liked.get(uid, False)
                    answer = await sock.call(ref, "postlike", postid=post["id"], liked=want)
                    assert answer["type"] == "ack" and answer["liked"] is want, answer
                    liked[uid] = want
                    counts["postlike"] += 1
                else:
                    answer = await sock.call(ref, "ping")
                    assert answer["type"] == "pong", answer
                    counts["ping"] += 1
                await asyncio.sleep(rng.expovariate(RATE))

        started = time.monotonic()
        await asyncio.gather(*(drive(uid, random.Random(uid)) for uid in ids))
        elapsed = time.monotonic() - started

        # What each socket must have received, exactly once.
        members = {g: set(m) for g, m in groups}
        expected = {uid: set() for uid in ids}
        for message_id, (group_id, to, sender) in acked.items():
            audience = members[group_id] if group_id is not None else {to, sender}
            for uid in audience:
                expected[uid].add(message_id)
        settle_until = time.monotonic() + 20
        while any(set(s.messages) != expected[s.user_id] for s in sockets) and time.monotonic() < settle_until:
            await asyncio.sleep(0.2)
        await asyncio.sleep(0.5)  # anything late would be a duplicate or a stray
        missing = sum(len(expected[s.user_id] - set(s.messages)) for s in sockets)
        extra = sum(len(set(s.messages) - expected[s.user_id]) for s in sockets)
        duplicates = sum(len(s.messages) - len(set(s.messages)) for s in sockets)
        delivered = sum(len(s.messages) for s in sockets)
        should = sum(len(expected[s.user_id]) for s in sockets)
        if extra:
            strays = sorted({m for s in sockets for m in set(s.messages) - expected[s.user_id]})[:5]
            detail = e2e_stack.python(
                "from groups.models import Message; "
                f"print([(m.pk, m.sender_id, m.group_id, m.recipient_id, m.body) for m in "
                f"Message.objects.filter(pk__in={strays!r})])")
            pytest.fail(f"{extra} deliveries of messages nobody acknowledged: {detail}; acked {len(acked)}")
        assert (missing, extra, duplicates) == (0, 0, 0), (missing, extra, duplicates)
        assert delivered == should

        stored = int(e2e_stack.python(
            "from groups.models import Message; "
            f"print(Message.objects.filter(sender_id__in={ids!r}).count())"))
        assert stored == len(acked), (stored, len(acked))
        likes = https[0].data("GET", f"/api/posts/{post['id']}/", token=users[0]["access"])["likes_count"]
        assert likes == sum(liked.values())
        assert not any(s.errors for s in sockets), [s.errors[:3] for s in sockets if s.errors][:3]
        rss_after = [rss_mb(proc.process.pid) for proc in procs]
        for before, after in zip(rss_before, rss_after, strict=True):
            assert after - before < 100, (rss_before, rss_after)
        report.record("soak", server="uvicorn", processes=len(procs), sockets=len(sockets), seconds=round(elapsed),
                      frames_sent=sum(counts.values()), messages_sent=len(acked), stored=stored,
                      deliveries_expected=should, delivered=delivered, lost=missing, duplicates=duplicates,
                      likes_count=likes,
                      rss_mb_before="/".join(f"{r:.0f}" for r in rss_before),
                      rss_mb_after="/".join(f"{r:.0f}" for r in rss_after))
    finally:
        for sock in sockets:
            sock.reader.cancel()
        await asyncio.gather(*(sock.ws.close() for sock in sockets), return_exceptions=True)
        for proc in procs:
            proc.stop()
