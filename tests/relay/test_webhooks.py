"""Signed webhooks: deliveries written in the change's own transaction (an outbox), sent by the
worker after commit, signed, in order per endpoint, retried with backoff while the receiver
fails, so that a receiver that is down loses nothing."""

import hashlib
import hmac
import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from groups import actions as group_actions
from groups import messaging
from moderation import actions as moderation
from posts import actions as post_actions
from relay.stream import webhooks
from relay.stream.models import Webhook, WebhookAttempt, WebhookDelivery
from tests.conftest import group_with, say
from tests.sockets import call

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "s3cret-shared-with-the-receiver"


class Receiver:
    """An HTTP receiver on 127.0.0.1: answers each request with the next of `statuses` (then 200)."""

    def __init__(self):
        self.got, self.statuses = [], []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.got.append((dict(self.headers), body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        return [json.loads(body) for _, body in self.got]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def endpoint(url, *events):
    hook = Webhook.objects.create(url=url, secret=SECRET, events=list(events or webhooks.EVENTS))
    webhooks.forget_endpoints()
    return hook


@pytest.fixture(autouse=True)
def _fresh_endpoints():
    webhooks.forget_endpoints()
    yield
    webhooks.forget_endpoints()


def types():
    return list(WebhookDelivery.objects.order_by("id").values_list("event", flat=True))


def data_of(event):
    return json.loads(WebhookDelivery.objects.filter(event=event).latest("id").body)["data"]


# --- recorded with the change ---------------------------------------------------------------------------
def test_nothing_is_recorded_without_an_endpoint_that_asks(alice, bob):
    say(alice, "no endpoint", to=bob)
    assert not WebhookDelivery.objects.exists()
    endpoint("http://127.0.0.1:9/none", "post.created")
    say(alice, "not asked for", to=bob)
    assert not WebhookDelivery.objects.exists()


def test_a_rolled_back_change_records_nothing(alice, bob):
    endpoint("http://127.0.0.1:9/x", "message.created")
    with pytest.raises(RuntimeError), transaction.atomic():
        say(alice, "rolled back", to=bob)
        raise RuntimeError
    assert not WebhookDelivery.objects.exists()
    say(alice, "kept", to=bob)
    assert types() == ["message.created"] and data_of("message.created")["message"] == "kept"


def test_every_event_type_is_recorded_with_its_data(alice, bob, charlie, make_user):
    endpoint("http://127.0.0.1:9/all")
    group = group_with(alice, bob)                                     # member.joined: alice, bob
    message = say(alice, "hello", group=group)                         # message.created (+ offline)
    messaging.edit_message(actor=alice, message=message, body="hello!")
    messaging.delete_message(message=message, by=alice)
    post_actions.create_post(actor=alice, content="a post", group=group)
    group_actions.join_group(actor=charlie, group=group)
    group_actions.leave_group(actor=charlie, group=group)
    group_actions.kick_member(actor=alice, group=group, target=bob, ban=True)
    moderation.file_report(reporter=charlie, target_type="user", target_id=alice.pk, reason="spam")
    mod = make_user("mod", perms=["accounts.deactivate_user"], is_staff=True)
    moderation.deactivate_user(moderator=mod, user=charlie, reason="spam")
    assert types() == ["member.joined", "member.joined", "message.created", "user.offline_message",
                       "message.edited", "message.deleted", "post.created", "member.joined", "member.left",
                       "member.kicked", "report.created", "user.deactivated"]
    assert data_of("message.created")["message"] == "hello" and data_of("message.edited")["message"] == "hello!"
    assert data_of("message.deleted")["id"] == message.pk
    assert data_of("member.kicked")["ban"] is True and data_of("member.kicked")["user"]["id"] == bob.pk
    assert data_of("report.created")["target"] == f"user:{alice.pk}"
    assert data_of("user.deactivated")["user"]["id"] == charlie.pk and data_of("user.deactivated")["reason"] == "spam"
    assert data_of("post.created")["content"] == "a post"


async def test_an_offline_message_names_only_those_with_no_open_socket(connect, alice, bob, charlie):
    await call(endpoint, "http://127.0.0.1:9/push", "user.offline_message")
    group = await call(group_with, alice, bob, charlie)
    online = await connect(bob)
    await call(say, alice, "to the group", group=group)
    await call(say, alice, "to bob", to=bob)
    await call(say, alice, "to charlie", to=charlie)
    got = await call(lambda: [json.loads(b)["data"] for b in WebhookDelivery.objects.order_by("id")
                              .values_list("body", flat=True)])
    assert [(d["message"]["message"], d["users"]) for d in got] == [("to the group", [charlie.pk]),
                                                                    ("to charlie", [charlie.pk])]
    await online.disconnect()


# --- sent by the worker -------------------------------------------------------------------------------
def test_deliveries_are_signed_and_carry_their_event_id(receiver, alice, bob):
    endpoint(receiver.url, "message.created")
    say(alice, "signed", to=bob)
    assert webhooks.send_due() == 1
    headers, body = receiver.got[0]
    t, v1 = (part.split("=", 1)[1] for part in headers["Kirimin-Signature"].split(","))
    assert v1 == hmac.new(SECRET.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    event = json.loads(body)
    assert headers["Kirimin-Event-Id"] == event["id"] and headers["Kirimin-Event"] == "message.created"
    assert event["type"] == "message.created" and event["data"]["message"] == "signed"
    delivery = WebhookDelivery.objects.get()
    assert delivery.delivered_at is not None and delivery.attempts == 1 and delivery.last_status == 200


def test_a_failing_receiver_is_retried_with_backoff_and_the_same_event_id(receiver, alice, bob):
    endpoint(receiver.url, "message.created")
    receiver.statuses = [500]
    say(alice, "retried", to=bob)
    assert webhooks.send_due() == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.last_status == 500 and delivery.delivered_at is None
    assert delivery.next_attempt_at > timezone.now()
    assert webhooks.send_due() == 0 and len(receiver.got) == 1  # not due yet
    WebhookDelivery.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert webhooks.send_due() == 1
    first, second = (json.loads(body)["id"] for _, body in receiver.got)
    assert first == second
    assert list(WebhookAttempt.objects.order_by("id").values_list("status", flat=True)) == [500, 200]
    assert [webhooks.backoff(n) for n in (1, 2, 3, 4, 20)] == [1, 2, 4, 8, webhooks.BACKOFF_MAX]


def test_a_receiver_that_is_down_loses_nothing_and_gets_everything_in_order(alice, bob):
    down = Receiver()
    url = down.url
    down.close()  # nobody listens there now
    hook = endpoint(url, "message.created")
    for i in range(3):
        say(alice, f"m{i}", to=bob)
    assert webhooks.send_due() == 0
    assert WebhookDelivery.objects.filter(attempts=1).count() == 1  # the first holds the others back
    back = Receiver()
    try:
        Webhook.objects.filter(pk=hook.pk).update(url=back.url)
        assert webhooks.retry_now(WebhookDelivery.objects.all()) == 3
        assert webhooks.send_due() == 3
        assert [e["data"]["message"] for e in back.events()] == ["m0", "m1", "m2"]
    finally:
        back.close()


def test_one_endpoint_down_does_not_hold_up_another(receiver, alice, bob):
    endpoint("http://127.0.0.1:9/down", "message.created")
    endpoint(receiver.url, "message.created")
    say(alice, "both", to=bob)
    assert webhooks.send_due() == 1
    assert [e["data"]["message"] for e in receiver.events()] == ["both"]


def test_the_worker_command_sends_what_is_due_and_exits_with_once(receiver, alice, bob, capsys):
    endpoint(receiver.url, "message.created")
    say(alice, "by the command", to=bob)
    call_command("relay_webhooks", "--once")
    assert "1 delivered" in capsys.readouterr().out
    assert [e["data"]["message"] for e in receiver.events()] == ["by the command"]


# --- the admin -----------------------------------------------------------------------------------------
def test_the_admin_configures_an_endpoint_shows_attempts_and_retries(client, make_user, receiver, alice, bob):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post("/admin/stream/webhook/add/", {
        "url": receiver.url, "secret": SECRET, "events": ["message.created", "member.joined"],
        "description": "push", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Webhook.objects.get().events == ["message.created", "member.joined"]
    receiver.statuses = [503]
    say(alice, "shown", to=bob)
    webhooks.send_due()
    delivery = WebhookDelivery.objects.get()
    page = client.get(f"/admin/stream/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "503" in page and str(delivery.event_id) in page
    client.post("/admin/stream/webhookdelivery/", {"action": "retry_deliveries", "_selected_action": [delivery.pk]})
    assert webhooks.send_due() == 1
    assert WebhookDelivery.objects.get().delivered_at is not None


def test_the_admin_refuses_an_endpoint_without_events_or_with_a_bad_url(client, make_user):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    response = client.post("/admin/stream/webhook/add/", {"url": "ftp://x", "secret": SECRET, "events": []})
    assert response.status_code == 200 and not Webhook.objects.exists()

