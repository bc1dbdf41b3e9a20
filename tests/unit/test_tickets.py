"""accounts.tickets: one-time WebSocket tickets, against the real cache (Redis when REDIS_URL is set)."""

import asyncio
import sys
import threading
import time

import pytest
from django.core.cache import cache, caches

from accounts.tickets import aconsume_ticket, consume_ticket, issue_ticket
from tests.conftest import PASSWORD, REDIS_URL, needs_redis, ok

RACERS = 20


def race(ticket, racers=RACERS):
    """`racers` threads consume `ticket` at the same instant; returns every answer."""
    barrier = threading.Barrier(racers)
    results = [None] * racers

    def racer(index):
        barrier.wait()
        results[index] = consume_ticket(ticket)

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(racers)]
    # Switch threads as often as possible, so a get-then-delete that is not atomic loses the race.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)
    finally:
        sys.setswitchinterval(interval)
    return results


def test_a_ticket_answers_its_user_id_once(alice):
    ticket = issue_ticket(alice)
    assert consume_ticket(ticket.id) == alice.id
    assert consume_ticket(ticket.id) is None
    assert consume_ticket(ticket.id) is None


def test_a_ticket_is_unguessable_and_carries_the_ttl(alice):
    first, second = issue_ticket(alice), issue_ticket(alice)
    assert first.id != second.id
    assert len(first.id) >= 32
    assert first.expires_in == 60


def test_tickets_of_different_users_stay_apart(alice, bob):
    for_alice, for_bob = issue_ticket(alice), issue_ticket(bob)
    assert consume_ticket(for_bob.id) == bob.id
    assert consume_ticket(for_alice.id) == alice.id


def test_consuming_one_ticket_leaves_the_others_valid(alice):
    first, second = issue_ticket(alice), issue_ticket(alice)
    assert consume_ticket(first.id) == alice.id
    assert consume_ticket(second.id) == alice.id


def test_an_unknown_well_formed_ticket_is_refused(db):
    assert consume_ticket("A" * 43) is None


# A garbage ticket must not even reach the cache: locmem warns about odd keys, and that is an error here.
@pytest.mark.filterwarnings("error::django.core.cache.backends.base.CacheKeyWarning")
@pytest.mark.parametrize(
    "ticket",
    ["", "short", "x" * 31, "x" * 65, "has spaces in it but is long enough....", "semi;colon" * 4,
     "../../../../etc/passwd/../../../../../", "a" * 40 + "\n", "é" * 40, "*" * 40],
)
def test_a_garbage_ticket_is_refused(db, ticket):
    assert consume_ticket(ticket) is None


@pytest.mark.parametrize("ticket", [None, 42, 4.2, True, b"A" * 43, ["A" * 43], {"id": "A" * 43}])
def test_a_ticket_that_is_not_a_string_is_refused(db, ticket):
    assert consume_ticket(ticket) is None


def test_a_real_ticket_with_anything_appended_is_refused(alice):
    ticket = issue_ticket(alice).id
    for variant in (ticket + "\n", ticket + " ", " " + ticket, ticket[:-1], ticket + "A"):
        assert consume_ticket(variant) is None
    assert consume_ticket(ticket) == alice.id


def test_a_cache_key_that_is_not_a_ticket_cannot_be_consumed(alice):
    # Only keys under the ticket prefix are tickets, whatever else lives in the cache.
    cache.set("B" * 43, alice.id)
    assert consume_ticket("B" * 43) is None


def test_a_ticket_expires(alice, settings):
    settings.SOCKET_TICKET_TTL = 1
    ticket = issue_ticket(alice)
    assert ticket.expires_in == 1
    time.sleep(1.2)
    assert consume_ticket(ticket.id) is None


def test_a_short_lived_ticket_works_before_it_expires(alice, settings):
    settings.SOCKET_TICKET_TTL = 1
    assert consume_ticket(issue_ticket(alice).id) == alice.id


def test_login_then_is_user_gives_a_ticket_accepted_once(anon, alice):
    """Issue 2's definition of done."""
    access = ok(anon.post("/api/auth/login/", {"username": "alice", "password": PASSWORD},
                          format="json"))["access"]
    anon.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    ticket = ok(anon.get("/api/auth/is-user/"))["socket"]["id"]
    assert consume_ticket(ticket) == alice.id
    assert consume_ticket(ticket) is None


def test_of_racing_consumers_exactly_one_wins(alice):
    for _ in range(5):
        results = race(issue_ticket(alice).id)
        assert results.count(alice.id) == 1
        assert results.count(None) == RACERS - 1


@needs_redis
def test_the_race_holds_on_real_redis(alice):
    from django.core.cache.backends.redis import RedisCache

    assert isinstance(caches["default"], RedisCache)
    for _ in range(5):
        results = race(issue_ticket(alice).id)
        assert results.count(alice.id) == 1 and results.count(None) == RACERS - 1


@needs_redis
def test_tickets_live_in_redis_with_their_ttl(alice):
    import redis

    ticket = issue_ticket(alice)
    raw = redis.Redis.from_url(REDIS_URL)
    try:
        [key] = raw.keys(f"*socket-ticket:{ticket.id}")
        assert 0 < raw.ttl(key) <= 60
        assert consume_ticket(ticket.id) == alice.id
        assert not raw.exists(key)
    finally:
        raw.close()


async def test_aconsume_ticket_answers_once(alice):
    ticket = issue_ticket(alice)
    assert await aconsume_ticket(ticket.id) == alice.id
    assert await aconsume_ticket(ticket.id) is None
    assert await aconsume_ticket("garbage") is None
    assert await aconsume_ticket(None) is None


async def test_racing_async_consumers_get_one_winner(alice):
    ticket = issue_ticket(alice)
    results = await asyncio.gather(*(aconsume_ticket(ticket.id) for _ in range(RACERS)))
    assert results.count(alice.id) == 1 and results.count(None) == RACERS - 1


@pytest.fixture
def crowd(make_user):
    return [make_user() for _ in range(40)]


async def test_a_burst_of_handshakes_gets_each_its_own_user(crowd):
    """Consumed together (on Redis: one pipeline of GETDELs), every ticket still answers
    its own user, once, and a reused or unknown one answers None."""
    users = crowd
    tickets = [issue_ticket(u) for u in users for _ in range(5)]
    asked = [t.id for t in tickets] + [tickets[0].id, "x" * 40]
    results = await asyncio.gather(*(aconsume_ticket(t) for t in asked))
    assert results[:-2] == [u.pk for u in users for _ in range(5)]
    assert results[-2:] == [None, None]
