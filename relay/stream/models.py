"""The numbered event stream, stored.

Every stateful event is one `Entry` with a global position `seq`: contiguous, and
in commit order, because positions are taken under one lock (the `Head` row) that
is held until the transaction commits. An entry names the topics it goes to
(`EntryTopic`: "user.5", "group.7", "post.42"); each topic numbers its own
entries too (`Topic.head`), so a client can see a gap in any stream it follows.
Writing a group event costs the same whatever the group's size.
"""

from django.db import models


class Head(models.Model):
    """The one row (pk 1): the newest position, and where retention has trimmed to."""

    seq = models.BigIntegerField(default=0)
    trimmed = models.BigIntegerField(default=0, help_text="entries up to this position are gone")

    class Meta:
        db_table = "stream_head"

    def __str__(self):
        return f"stream at {self.seq}"


class Topic(models.Model):
    """A topic's own count of entries: its stream's newest offset."""

    name = models.CharField(max_length=64, primary_key=True)
    head = models.BigIntegerField(default=0)

    class Meta:
        db_table = "stream_topic"

    def __str__(self):
        return f"{self.name} at {self.head}"


class Entry(models.Model):
    """One event at its position: the frame as sent (`text`, with `seq` and `streams`), and
    `data`: its topics, membership changes (`ops`) and socket closes, as the hubs apply them."""

    seq = models.BigIntegerField(primary_key=True)
    at = models.FloatField(help_text="when it was stored (Unix time)")
    text = models.TextField(blank=True)
    data = models.TextField(default="{}", help_text="JSON: topics (t) and membership changes (o)")
    message_id = models.BigIntegerField(null=True, blank=True, db_index=True)

    class Meta:
        db_table = "stream_entry"

    def __str__(self):
        return f"entry {self.seq}"


class EntryTopic(models.Model):
    """An entry's topic: one row each, keyed (topic, seq), the index a replay reads. A message's
    entry has none while its message lives: the message's row names its topics
    (`relay.stream.topics.MessageIndex`)."""

    pk = models.CompositePrimaryKey("topic", "seq")
    topic = models.CharField(max_length=64)
    seq = models.BigIntegerField()

    class Meta:
        db_table = "stream_entry_topic"

    def __str__(self):
        return f"{self.topic} @ {self.seq}"


class Webhook(models.Model):
    """An endpoint that is sent the events it asks for (`relay.stream.webhooks`), signed with its
    `secret`: `Kirimin-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="shared with the receiver, which checks the signature")
    events = models.JSONField(default=list, blank=True, help_text="the event types it is sent")
    description = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True, help_text="inactive: no new deliveries are recorded for it")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "stream_webhook"

    def __str__(self):
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: written in the transaction of the change it tells of (an
    outbox), sent after commit by the webhook worker, in order per endpoint, until it is taken."""

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(unique=True, help_text="Kirimin-Event-Id: the same on every attempt")
    event = models.CharField(max_length=64)
    body = models.TextField(help_text="the JSON sent")
    created_at = models.DateTimeField(auto_now_add=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True, help_text="the receiver's last HTTP status")
    last_error = models.TextField(blank=True)

    class Meta:
        db_table = "stream_webhook_delivery"
        verbose_name_plural = "webhook deliveries"
        # The worker's question: an endpoint's oldest delivery not taken yet.
        indexes = [models.Index(fields=["webhook", "delivered_at", "id"], name="webhook_pending")]

    def __str__(self):
        return f"{self.event} to {self.webhook_id} ({self.event_id})"


class WebhookAttempt(models.Model):
    """One try at sending a delivery, as the admin shows it."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="tries")
    at = models.DateTimeField(auto_now_add=True)
    status = models.PositiveIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        db_table = "stream_webhook_attempt"

    def __str__(self):
        return f"{self.status or self.error[:40]} at {self.at}"
