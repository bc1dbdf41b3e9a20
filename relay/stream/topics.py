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
