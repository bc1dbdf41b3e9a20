"""Per-user rate limits on minting socket tickets (is-user) and on sending messages through
REST (THROTTLE_TICKET, THROTTLE_SEND): past the limit a clear 429, and nothing stored."""

import pytest

from accounts.throttles import SendThrottle, TicketThrottle
from groups.models import Message
from tests.conftest import err, group_with, ok


@pytest.fixture
def low_limits(monkeypatch):
    monkeypatch.setattr(TicketThrottle, "rate", "3/min", raising=False)
    monkeypatch.setattr(SendThrottle, "rate", "3/min", raising=False)


def test_tickets_are_minted_at_most_at_the_rate_per_user(api, alice, bob, low_limits):
    client = api(alice)
    tickets = {ok(client.get("/api/auth/is-user/"))["socket"]["id"] for _ in range(3)}
    assert len(tickets) == 3
    body = err(client.get("/api/auth/is-user/"), 429, "throttled")
    assert 0 < body["details"]["retry_after"] <= 60, body
    ok(api(bob).get("/api/auth/is-user/"))  # the limit is per user


def test_rest_sends_are_limited_per_user_and_reading_is_not(api, alice, bob, low_limits):
    group = group_with(alice, bob)
    client = api(alice)
    for i in range(2):
        ok(client.post(f"/api/groups/{group.pk}/messages/", {"message": f"g{i}"}, format="json"), 201)
    ok(client.post("/api/messages/", {"to": bob.pk, "message": "dm"}, format="json"), 201)
    err(client.post(f"/api/groups/{group.pk}/messages/", {"message": "one too many"}, format="json"), 429, "throttled")
    err(client.post("/api/messages/", {"to": bob.pk, "message": "one too many"}, format="json"), 429, "throttled")
    assert not Message.objects.filter(body="one too many").exists()
    for _ in range(5):  # history stays readable
        ok(client.get(f"/api/groups/{group.pk}/messages/"))
        ok(client.get(f"/api/messages/?with={bob.pk}"))
    ok(api(bob).post("/api/messages/", {"to": alice.pk, "message": "bob may"}, format="json"), 201)


def test_logins_mint_tickets_under_the_same_limit(anon, alice, low_limits):
    from tests.conftest import PASSWORD

    for _ in range(3):
        ok(anon.post("/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json"))
    err(anon.post("/api/auth/login/", {"username": "alice", "password": PASSWORD}, format="json"), 429, "throttled")
