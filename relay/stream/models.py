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
