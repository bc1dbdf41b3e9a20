"""Presence: a user is online while they have at least one open socket anywhere.

Each process publishes the exact count of its local sockets per user. On Redis
that is a hash per process, plus a sorted set of processes scored by when they
count as gone: when a process crashes, its users drop offline within
RELAY_PRESENCE_TTL seconds. A gone process's hash is kept a while longer, so
that a live process can `reap` it: take its users, to tell their friends they
left (`groups.presence`). Without Redis there is one process, so a dict in
memory is exact.
"""

import atexit
import time
import uuid

import redis
from django.conf import settings
from django.utils.timezone import now

from config.redis_clients import async_redis

_PROCS = "kirimin:presence:procs"


_PROC_PREFIX = "kirimin:presence:p:"
_REAPED_PREFIX = "kirimin:presence:reaped:"  # set for a process taken for gone (it may be alive)
_SWEEP = "kirimin:presence:sweep"  # held by the process that sweeps this period


def _proc_key(proc_id):
    return _PROC_PREFIX + proc_id


# KEYS: the live processes, this process's counts. ARGV: now, this process's id, the user,
# their sockets here (the new one included), the cap, the counts' time to live, the prefix
# of every process's counts.
_ADMIT = """
local total = tonumber(ARGV[4])
for _, proc in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')) do
  if proc ~= ARGV[2] then
    total = total + tonumber(redis.call('HGET', ARGV[7] .. proc, ARGV[3]) or '0')
  end
end
if total > tonumber(ARGV[5]) then return 0 end
if tonumber(redis.call('HGET', KEYS[2], ARGV[3]) or '0') < tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
end
redis.call('EXPIRE', KEYS[2], ARGV[8])
redis.call('ZADD', KEYS[1], ARGV[1] + ARGV[6], ARGV[2])
return 1
"""

# KEYS: the processes. ARGV: now, the prefix of every process's counts, the prefix of the
# reaped marks, how long a mark lasts. Takes the gone processes off the set and returns the
# users they held, those whose last socket there had closed included (count 0), once: one
# process reaps each. A process taken for gone that is alive (stalled past its TTL) finds its
# mark at its next heartbeat and writes its counts again.
_REAP = """
local users = {}
for _, proc in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])) do
  local key = ARGV[2] .. proc
  for _, user in ipairs(redis.call('HKEYS', key)) do
    table.insert(users, user)
  end
  redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], proc)
  redis.call('SET', ARGV[3] .. proc, '1', 'EX', ARGV[4])
end
return users
"""

# KEYS: this process's counts. ARGV: the user. A count of 0 (kept while the user's departure
# is pending, so that a reaper finds them) goes; a socket that opened meanwhile stays.
_FORGET = """
if redis.call('HGET', KEYS[1], ARGV[1]) == '0' then
  redis.call('HDEL', KEYS[1], ARGV[1])
end
"""


# --- embedded default: one process -------------------------------------------------------
_local_counts: dict[int, int] = {}


class LocalPresence:
    """In-process presence for the single-process default."""

    async def set_local(self, user_id, count, keep=False):
        if count > 0 or keep:
            _local_counts[user_id] = count
        else:
            _local_counts.pop(user_id, None)

    async def forget(self, user_id):
        if _local_counts.get(user_id) == 0:
            del _local_counts[user_id]

    async def may_sweep(self, period):
        return True

    async def admit(self, user_id, local, cap):
        """One process holds every socket: `local` (this one included) is the whole count."""
        return local <= cap

    async def heartbeat(self, sockets, full=False, leaving=()):
        return False

    async def reap(self):
        return []

    async def stop(self):
        pass


# --- Redis: any number of processes ----------------------------------------------------------
class RedisPresence:
    """Per-process socket counts in Redis, expiring with the process."""

    def __init__(self):
        self.proc_id = uuid.uuid4().hex
        self.key = _proc_key(self.proc_id)
        self.ttl = settings.RELAY_PRESENCE_TTL
        self.keep = 3 * self.ttl  # the counts outlive the process's place, to be reaped
        self.redis = async_redis()
        self._admit = self.redis.register_script(_ADMIT)  # sent by its hash after the first time
        self._reap = self.redis.register_script(_REAP)
        self._forget = self.redis.register_script(_FORGET)
        # A process stopped with SIGTERM (a deploy) takes its users offline at once,
        # instead of after RELAY_PRESENCE_TTL; a crash still waits for the TTL.
        atexit.register(self._forget_sync)

    def _forget_sync(self):
        try:
            _client().zadd(_PROCS, {self.proc_id: 0})  # gone: reaped by a live process
        except redis.RedisError:
            pass

    async def set_local(self, user_id, count, keep=False):
        """This process's count of `user_id`'s sockets; 0 with `keep`: their departure is
        pending (`relay.liveness`), so the count stays, at 0, until `forget`."""
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                if count > 0 or keep:
                    pipe.hset(self.key, user_id, count)
                else:
                    pipe.hdel(self.key, user_id)
                pipe.expire(self.key, self.keep)
                pipe.zadd(_PROCS, {self.proc_id: time.time() + self.ttl})
                await pipe.execute()
        except redis.RedisError:
            pass  # the next heartbeat rewrites the whole hash

    async def admit(self, user_id, local, cap):
        """True if the user's sockets on every live process, with `local` on this one (the new
        socket included), stay within `cap`; then this process's count is raised to `local` in
        the same step, so that sockets opening at once on several processes never pass the cap
        between one's check and its count (a script runs in Redis as one step)."""
        admitted = await self._admit(keys=[_PROCS, self.key],
                                     args=[time.time(), self.proc_id, user_id, local, cap, self.ttl, _PROC_PREFIX,
                                           self.keep])
        return bool(admitted)

    async def forget(self, user_id):
        try:
            await self._forget(keys=[self.key], args=[user_id])
        except redis.RedisError:
            pass  # a stray 0 counts as offline

    async def may_sweep(self, period):
        """True for one process per `period` seconds: the one to sweep (`relay.liveness`)."""
        return bool(await self.redis.set(_SWEEP, self.proc_id, nx=True, ex=max(1, int(period) - 1)))

    async def heartbeat(self, sockets, full=False, leaving=()):
        """Keep this process's counts alive; `full`: write them all again from `sockets` (the hub's
        registry: `online_user_ids()`, `local_sockets(user_id)`), with a 0 for the users in
        `leaving` (the hub's live collection of pending departures). Returns True if they were
        written again: asked to, or found gone (Redis restarted empty, or this process was taken
        for gone and reaped)."""
        if await self.redis.getdel(_REAPED_PREFIX + self.proc_id):
            full = True
        elif not full and (leaving or sockets.online_user_ids()):
            full = not await self.redis.exists(self.key)
        # Read only now, after the waits above: a departure that ended meanwhile (`forget`) must
        # not be written back (`leaving` is the live collection, not a copy).
        counts = {uid: 0 for uid in leaving}
        counts.update({uid: sockets.local_sockets(uid) for uid in sockets.online_user_ids()})
        async with self.redis.pipeline(transaction=True) as pipe:
            if full:  # after an outage Redis may be empty: rewrite everything we know
                pipe.delete(self.key)
                if counts:
                    pipe.hset(self.key, mapping=counts)
            pipe.expire(self.key, self.keep)
            pipe.zadd(_PROCS, {self.proc_id: time.time() + self.ttl})
            await pipe.execute()
        return full

    async def reap(self):
        """The users of processes gone (crashed, or stopped) since the last reap, once each
        across every process: whose friends may have to hear that they left."""
        users = await self._reap(keys=[_PROCS], args=[time.time(), _PROC_PREFIX, _REAPED_PREFIX, self.keep])
        return sorted({int(u) for u in users})

    async def stop(self):
        """Gone at once (its users count offline); the next live process to reap takes them."""
        try:
            await self.redis.zadd(_PROCS, {self.proc_id: 0})
        except redis.RedisError:
            pass
        atexit.unregister(self._forget_sync)
        await self.redis.aclose()


def for_hub():
    return RedisPresence() if settings.REDIS_URL else LocalPresence()


# --- reads for REST (sync) ---------------------------------------------------------------------
_sync_client = None


def _client():
    global _sync_client
    if _sync_client is None:
        _sync_client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    return _sync_client


def online_user_ids(user_ids, *, strict=False, leaving=False) -> set[int]:
    """Which of `user_ids` have an open socket on any live process (one round trip per
    process); with `leaving`, also those whose last socket closed and whose departure is
    not announced yet (a count of 0, `relay.liveness`): what REST shows, so that it agrees
    with the `presence` frames. Redis failing reads as nobody online, unless `strict` (then
    it raises): what is told to others must not turn on a failed read."""
    user_ids = list(user_ids)
    if not user_ids:
        return set()
    if not settings.REDIS_URL:
        return {uid for uid in user_ids if _local_counts.get(uid) or (leaving and uid in _local_counts)}
    if strict:
        return _online(user_ids, leaving)
    try:
        return _online(user_ids, leaving)
    except redis.RedisError:
        return set()  # presence is best effort: never fail a REST call over it


def _online(user_ids, leaving):
    client = _client()
    online = set()
    for proc in client.zrangebyscore(_PROCS, time.time(), "+inf"):
        counts = client.hmget(_proc_key(proc.decode()), user_ids)
        online.update(uid for uid, c in zip(user_ids, counts, strict=True)
                      if c is not None and (leaving or int(c) > 0))
    return online


def shown(users) -> dict[int, tuple[bool, object]]:
    """{user id: (online, last_seen)} for users (with `pk` and `last_seen`) as REST shows them:
    online counting a departure still in its debounce, and `last_seen` the present moment while
    online, else when their last socket closed."""
    users = list(users)
    online, at = online_user_ids([u.pk for u in users], leaving=True), now()
    return {u.pk: (True, at) if u.pk in online else (False, u.last_seen) for u in users}


def is_online(user_id) -> bool:
    return user_id in online_user_ids([user_id])
