"""A relay outage after commit: the committed action still answers, and the failure is logged."""

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from groups.models import Message
from relay import notify
from tests.conftest import ok


@pytest.fixture
def broken_relay(monkeypatch):
    async def fail(**kwargs):
        raise RedisConnectionError("Connection closed by server.")

    monkeypatch.setattr(notify, "send_event_rollback_unsafe", fail)


@pytest.mark.django_db(transaction=True)
def test_a_message_is_stored_and_answered_when_the_relay_is_down(api, alice, bob, broken_relay, caplog):
    data = ok(api(alice).post("/api/messages/", {"to": bob.pk, "message": "still stored"}, format="json"), 201)
    assert Message.objects.filter(pk=data["id"], body="still stored").exists()
    assert any("on_commit" in r.getMessage() or "RedisConnectionError" in str(r.exc_info) for r in caplog.records)
