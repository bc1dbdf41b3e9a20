"""Signed webhooks: what happens, told to other services over HTTP.

`record(event, data)` is called by an action inside its transaction: for each active
endpoint that asks for `event`, it writes a `WebhookDelivery` row (a transactional outbox),
so a delivery exists exactly when the change committed. The worker (`manage.py
relay_webhooks`, its own process) sends them after commit: per endpoint in order, the
oldest first, retried with exponential backoff while the receiver fails, so a receiver that
is down loses nothing and gets everything, in order, when it returns.

Each request is a POST of `{"id", "type", "created_at", "data"}` with the headers
`Kirimin-Event-Id` (the same on every attempt: de-duplicate on it), `Kirimin-Event` and
`Kirimin-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>`.
"""

import hashlib
import hmac
import logging
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta

import orjson
from django.db import connection, transaction
from django.utils import timezone

from config import metrics
from relay.stream.models import Webhook, WebhookAttempt, WebhookDelivery

log = logging.getLogger("kirimin.webhooks")

EVENTS = {
    "message.created": "a message was stored (group or direct)",
    "message.edited": "its author edited a message",
    "message.deleted": "a message was deleted (by its author, a group's owner or admin, or a moderator)",
    "post.created": "a post was created",
    "report.created": "a user reported a message, a post or a user",
    "member.joined": "someone joined a group, or was added",
    "member.left": "someone left a group",
    "member.kicked": "someone was removed from a group (`ban`: banned too)",
    "user.deactivated": "a moderator deactivated a user",
    "user.offline_message": "a message was stored for users with no open socket (`users`): what a push service needs",
}
TIMEOUT = 10.0  # seconds a receiver has to answer
BACKOFF_MAX = 600.0  # seconds: the longest wait between two attempts
_ENDPOINTS_TTL = 5.0  # seconds a process trusts its list of endpoints (a new endpoint waits at most this)
_endpoints = (0.0, [])


def _active_endpoints():
    """(id, events) of the active endpoints, read at most every few seconds per process."""
    global _endpoints
    read_at, endpoints = _endpoints
    if time.monotonic() - read_at > _ENDPOINTS_TTL:
        endpoints = [(pk, set(events)) for pk, events in Webhook.objects.filter(is_active=True)
                     .values_list("pk", "events")]
        _endpoints = (time.monotonic(), endpoints)
    return endpoints


def forget_endpoints():
    """Read the endpoints again at the next `record` (after they changed in this process)."""
    global _endpoints
    _endpoints = (0.0, [])


def wanted(event):
    """Whether any active endpoint asks for `event` (so that callers may skip building its data)."""
    return any(event in events for _, events in _active_endpoints())


def record(event, data):
    """Write a delivery of `event` (one of EVENTS) with `data` (a JSON object) for every active
    endpoint that asks for it, in the current transaction. Nothing is written without one."""
    record_all(event, [data])


def record_all(event, datas):
    """`record` for several events of one type, in one statement. `datas` may be a generator:
    it is not run when no endpoint asks for `event` (a message batch builds nothing then)."""
    assert event in EVENTS, event
    targets = [pk for pk, events in _active_endpoints() if event in events]
    if not targets:
        return
    now = timezone.now()
    rows = []
    for data in datas:
        for pk in targets:
            event_id = uuid.uuid4()
            body = orjson.dumps({"id": str(event_id), "type": event, "created_at": now.isoformat(), "data": data},
                                option=orjson.OPT_SORT_KEYS).decode()
            rows.append(WebhookDelivery(webhook_id=pk, event_id=event_id, event=event, body=body, next_attempt_at=now))
    if rows:
        WebhookDelivery.objects.bulk_create(rows)


def frame_data(frame):
    """A socket frame's fields (`relay.stream.events`), as a webhook's data: what a socket is told,
    a receiver is told too."""
    return {k: v for k, v in frame.items() if k not in ("identifier", "type")}


def record_frame(event, frame, **extra):
    """`record` with a socket frame's fields as its data (built only when an endpoint asks)."""
    if wanted(event):
        record(event, {**frame_data(frame), **extra})


# --- sending: the worker --------------------------------------------------------------------------
def signature(secret, timestamp, body):
    """The `Kirimin-Signature` header's value for `body` (bytes) sent at `timestamp` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def backoff(attempts):
    """Seconds to wait after the `attempts`-th failed attempt: 1, 2, 4, ... up to BACKOFF_MAX."""
    return min(BACKOFF_MAX, 2.0 ** (attempts - 1))


def _post(webhook, delivery):
    """Send one delivery; returns (HTTP status or None, error text)."""
    body = delivery.body.encode()
    request = urllib.request.Request(webhook.url, data=body, method="POST", headers={
        "Content-Type": "application/json",
        "User-Agent": "Kirimin-Webhooks/1",
        "Kirimin-Event-Id": str(delivery.event_id),
        "Kirimin-Event": delivery.event,
        "Kirimin-Signature": signature(webhook.secret, int(time.time()), body),
    })
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310 - an admin-set URL
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return None, str(getattr(exc, "reason", exc))[:500]


def _claim():
    """An endpoint whose oldest pending delivery is due, locked for this worker (another worker
    skips it), with that delivery; or None. Call inside a transaction. The lock (FOR NO KEY
    UPDATE) does not hold up actions that record deliveries for the endpoint meanwhile."""
    now = timezone.now()
    pending = WebhookDelivery.objects.filter(delivered_at__isnull=True)
    features = connection.features
    locking = {"skip_locked": features.has_select_for_update_skip_locked,
               "no_key": features.has_select_for_no_key_update}
    for pk in pending.filter(next_attempt_at__lte=now).values_list("webhook_id", flat=True).distinct():
        webhook = Webhook.objects.select_for_update(**locking).filter(pk=pk).first()
        if webhook is None:
            continue  # another worker has it
        oldest = pending.filter(webhook=webhook).order_by("id").first()
        if oldest is not None and oldest.next_attempt_at <= now:
            return webhook, oldest
    return None


def send_due(limit=100):
    """Send up to `limit` due deliveries, each endpoint's in order (one at a time: a failure
    holds the ones after it); returns how many were taken by their receivers."""
    taken = 0
    for _ in range(limit):
        with transaction.atomic():
            claimed = _claim()
            if claimed is None:
                break
            webhook, delivery = claimed
            started = time.monotonic()
            status, error = _post(webhook, delivery)
            ok = status is not None and 200 <= status < 300
            delivery.attempts += 1
            delivery.last_status, delivery.last_error = status, error
            metrics.WEBHOOKS.labels("delivered" if ok else "failed").inc()
            if ok:
                delivery.delivered_at = timezone.now()
                taken += 1
            else:
                delivery.next_attempt_at = timezone.now() + timedelta(seconds=backoff(delivery.attempts))
                log.warning("webhook %s: %s for delivery %s (attempt %d)", webhook.url, error or status,
                            delivery.event_id, delivery.attempts)
            delivery.save(update_fields=["attempts", "last_status", "last_error", "delivered_at", "next_attempt_at"])
            WebhookAttempt.objects.create(delivery=delivery, status=status, error=error,
                                          duration_ms=int((time.monotonic() - started) * 1000))
    return taken


def retry_now(deliveries):
    """Make pending `deliveries` (a queryset) due at once (the admin's retry); returns how many."""
    return deliveries.filter(delivered_at__isnull=True).update(next_attempt_at=timezone.now())
