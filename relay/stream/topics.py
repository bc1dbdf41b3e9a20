"""Topic names: where an event goes ("user.5", "group.7", "post.42") and the name a
client sees for that topic's stream ("user:5", "group:7", "post:42")."""

# The one layer group every process's hub listens on: every event of the stream goes there.
STREAM_GROUP = "stream"


def user_topic(user_id):
    return f"user.{user_id}"


def group_topic(group_id):
    return f"group.{group_id}"


def channel_topic(name):
    """Public channel name -> topic: "post:42" -> "post.42"."""
    return name.replace(":", ".", 1)


def stream_name(topic):
    """Topic -> the stream's name in frames: "group.7" -> "group:7"."""
    return topic.replace(".", ":", 1)


def group_id_of(topic):
    return int(topic[6:]) if topic.startswith("group.") else None
