"""`GET /metrics`: Prometheus' text format for the holder of METRICS_TOKEN, off without one; what
the relay counts moves with what its sockets do."""

import json
import re
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from prometheus_client import REGISTRY

from tests.conftest import say
from tests.sockets import call, recv, send

pytestmark = pytest.mark.django_db(transaction=True)
TOKEN = "metrics-token-for-the-tests"


def value(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(token=TOKEN):
    return Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")


def test_metrics_are_off_without_a_token(settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics").status_code == 404
    assert scrape().status_code == 404


def test_metrics_take_the_token_and_answer_prometheus_text(settings):
    settings.METRICS_TOKEN = TOKEN
    assert Client().get("/metrics").status_code == 401
    assert scrape("not-it").status_code == 401
    response = scrape()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    for name in ("kirimin_sockets_open", "kirimin_frames_in_total", "kirimin_frames_out_total",
                 "kirimin_commit_to_write_seconds", "kirimin_replay_entries", "kirimin_socket_closes_total",
                 "kirimin_rate_limited_total", "kirimin_resyncs_total", "kirimin_redis_outages_total",
                 "kirimin_webhook_attempts_total"):
        assert f"# TYPE {name.removesuffix('_total')}" in text, name


async def test_sockets_frames_and_closes_are_counted(connect, alice, bob, settings):
    settings.RELAY_RATE, settings.RELAY_BURST = 0.001, 1
    users, anonymous = value("kirimin_sockets_open", kind="user"), value("kirimin_sockets_open", kind="anonymous")
    pings, pongs = value("kirimin_frames_in_total", type="ping"), value("kirimin_frames_out_total", type="pong")
    others, limited = value("kirimin_frames_in_total", type="other"), value("kirimin_rate_limited_total")
    comm, anon = await connect(alice), await connect()
    assert value("kirimin_sockets_open", kind="user") == users + 1
    assert value("kirimin_sockets_open", kind="anonymous") == anonymous + 1
    await send(comm, "ping", ref="p")
    assert (await recv(comm))["type"] == "pong"
    await send(comm, "ping", ref="limited")
    assert (await recv(comm))["code"] == "rate_limited"
    await send(anon, "no-such-frame")
    assert (await recv(anon))["code"] == "unknown_type"
    assert value("kirimin_frames_in_total", type="ping") == pings + 1
    assert value("kirimin_frames_out_total", type="pong") == pongs + 1
    assert value("kirimin_frames_in_total", type="other") == others + 1
    assert value("kirimin_rate_limited_total") == limited + 1
    closes = value("kirimin_socket_closes_total", code="client")
    await anon.disconnect()
    await comm.disconnect()
    await sync_to_async(lambda: None)()
    assert value("kirimin_sockets_open", kind="user") == users
    assert value("kirimin_sockets_open", kind="anonymous") == anonymous
    assert value("kirimin_socket_closes_total", code="client") == closes + 2


async def test_an_event_is_counted_out_with_its_latency_and_a_replay_by_its_size(connect, alice, bob):
    out = value("kirimin_frames_out_total", type="sendmessage")
    timed = value("kirimin_commit_to_write_seconds_count")
    comm = await connect(bob)
    position = comm.first["seq"]
    await call(say, alice, "counted", to=bob)
    assert (await recv(comm))["message"] == "counted"
    assert value("kirimin_frames_out_total", type="sendmessage") == out + 1
    assert value("kirimin_commit_to_write_seconds_count") == timed + 1
    replays, replayed = value("kirimin_replay_entries_count"), value("kirimin_replay_entries_sum")
    await comm.disconnect()
    again = await connect(bob, resume=position)
    assert (await recv(again))["message"] == "counted"
    assert value("kirimin_replay_entries_count") == replays + 1
    assert value("kirimin_replay_entries_sum") == replayed + 1


def test_the_grafana_dashboard_asks_only_for_metrics_that_exist(settings):
    settings.METRICS_TOKEN = TOKEN
    exposed = {re.sub(r"_total$", "", name) for name in re.findall(r"^# TYPE (kirimin_\w+) ", scrape().content.decode(), re.M)}
    dashboard = json.loads((Path(__file__).resolve().parents[2] / "docs/grafana-kirimin.json").read_text())
    asked = {re.sub(r"_(total|bucket|sum|count)$", "", name) for panel in dashboard["panels"]
             for target in panel["targets"] for name in re.findall(r"kirimin_\w+", target["expr"])}
    assert asked and asked <= exposed, asked - exposed
