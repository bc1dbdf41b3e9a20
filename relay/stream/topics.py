"""Topic names: where an event goes ("user.5", "group.7", "post.42") and the name a
client sees for that topic's stream ("user:5", "group:7", "post:42")."""

import functools
import hashlib

from django.conf import settings


@functools.cache
def stream_group():
    """The one layer group every process's hub listens on: every entry of the stream goes there.

    Named after the database the stream lives in, so that deployments (or test runs) that share
    a Redis but not a database never take each other's entries: positions are per database."""
    db = settings.DATABASES["default"]
    identity = "|".join(str(db.get(k, "")) for k in ("ENGINE", "HOST", "PORT", "NAME"))
    return "stream." + hashlib.sha1(identity.encode()).hexdigest()[:16]


EVERYONE = "all"  # every socket, anonymous ones too, is on this topic (`relay.registry`)


def user_topic(user_id):
    return f"user.{user_id}"


def group_topic(group_id):
    return f"group.{group_id}"


def presence_topic(group_id):
    """Who of a large group comes and goes, for the members who follow it ("presence:7")."""
    return f"presence.{group_id}"


def channel_topic(name):
    """Public channel name -> topic: "post:42" -> "post.42"."""
    return name.replace(":", ".", 1)


def stream_name(topic):
    """Topic -> the stream's name in frames: "group.7" -> "group:7"."""
    return topic.replace(".", ":", 1)


def group_id_of(topic):
    return int(topic[6:]) if topic.startswith("group.") else None


class MessageIndex:
    """Where the stream finds the entries of messages: a message's own row names its topics
    (its group, or its two users), so those entries get no `stream_entry_topic` rows, the most
    written rows of the stream (measured: without them, two processes store 5 to 7% more
    messages a second). Registered by the app that owns messages (`index_messages`); the stream
    knows only the table and column names.

    A message's entry must go to exactly its group's topic, or to its sender's and recipient's
    (`relay.stream.publish.emit(..., message_id=...)`). When a message row is deleted, its
    entry keeps its place in its topics' streams: the app's trigger writes the entry's topic
    rows then (see `groups` migration 0007)."""

    def __init__(self, table, pk, group, sender, recipient):
        self.table, self.pk, self.group, self.sender, self.recipient = table, pk, group, sender, recipient


messages = None


def index_messages(model):
    """Find message entries through `model`'s rows (a model with `group`, `sender` and
    `recipient` foreign keys, whose ids are the entries' `message_id`)."""
    global messages
    meta = model._meta
    messages = MessageIndex(meta.db_table, meta.pk.column, *(meta.get_field(name).column for name in ("group", "sender", "recipient")))
