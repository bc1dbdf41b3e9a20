"""A relay outage after commit: the committed action still answers, says it was not relayed, and logs.

These replace the layer call with one that fails, to pin the contract on both entry
points; tests/reliability/test_faults.py stops a real Redis under real servers.
"""

import pytest
from channels.layers import get_channel_layer
from redis.exceptions import ConnectionError as RedisConnectionError

from groups.models import Message
from relay.stream import read
from relay.stream.models import Entry
from tests.conftest import ok
from tests.sockets import recv_types, send


@pytest.fixture
def broken_relay(monkeypatch):
    """Every send through the channel layer fails, as when Redis is gone."""
    layer = get_channel_layer()

    async def fail(*args, **kwargs):
        raise RedisConnectionError("Connection closed by server.")

    async def fail_each(messages):
        return [RedisConnectionError("Connection closed by server.") for _ in messages]

    monkeypatch.setattr(layer, "group_send", fail)
    monkeypatch.setattr(layer, "send", fail)
    if hasattr(layer, "group_send_many"):
        monkeypatch.setattr(layer, "group_send_many", fail_each)


@pytest.mark.django_db(transaction=True)
def test_a_message_is_stored_and_answered_when_the_relay_is_down(api, alice, bob, broken_relay, caplog):
    response = api(alice).post("/api/messages/", {"to": bob.pk, "message": "still stored"}, format="json")
    data = ok(response, 201)
    assert Message.objects.filter(pk=data["id"], body="still stored").exists()
    assert response.json()["relayed"] is False
    assert response["Kirimin-Relayed"] == "false"
    assert any(r.exc_info and isinstance(r.exc_info[1], RedisConnectionError) for r in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_a_relayed_answer_carries_no_mark(api, alice, bob):
    response = api(alice).post("/api/messages/", {"to": bob.pk, "message": "all good"}, format="json")
    ok(response, 201)
    assert "relayed" not in response.json() and not response.has_header("Kirimin-Relayed")


@pytest.mark.django_db(transaction=True)
async def test_the_ack_says_relayed_false_when_the_relay_is_down(connect, alice, bob, broken_relay):
    ws = await connect(alice)
    await send(ws, "sendmessage", to=bob.pk, message="over the socket", ref="m")
    ack = (await recv_types(ws, "ack"))["ack"]
    assert ack["ref"] == "m" and ack["relayed"] is False
    assert await Message.objects.filter(pk=ack["id"], body="over the socket").aexists()


@pytest.mark.django_db(transaction=True)
def test_a_publish_is_stored_and_answers_relayed_false_when_the_relay_is_down(api, make_user, alice, broken_relay):
    before = read.head()[0]
    data = ok(api(make_user("ops", is_staff=True)).post(
        "/api/publish/", {"users": [alice.pk], "type": "custom.x", "data": {"n": 1}}, format="json"))
    assert data["relayed"] is False and data["recipients"] == 1
    assert Entry.objects.filter(seq__gt=before, text__contains='"custom.x"').count() == 1
