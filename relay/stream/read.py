"""Reading the stream back: where it stands, what a hub missed, what a user missed.

A user's replay gives them every entry they were entitled to *when it happened*:
their own stream, and the streams of the groups they were a member of at that
position. Their membership at the starting point is worked out backwards from
their membership now and the membership changes in between (which are entries
of their own stream), then followed forwards entry by entry.
"""

import heapq

import orjson
from django.db import connection, transaction

from relay.stream import topics as topic_names
from relay.stream.topics import group_id_of, group_topic, stream_name, user_topic
from relay.stream.variants import text_for

PAGE = 500


class TooOld(Exception):
    """The position asked for is older than what the stream keeps."""


def head():
    """(newest position, position up to which entries were trimmed)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT seq, trimmed FROM stream_head WHERE id = 1")
        return cursor.fetchone() or (0, 0)


def snapshot(load, topics_of):
    """`load()` and the stream's head read in one consistent snapshot: what `load` returns is the
    state at exactly that position. Returns (position, trimmed, loaded, {stream name: offset})
    for the topics `topics_of(loaded)` names."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        seq, trimmed = head()
        loaded = load()
        topics = list(topics_of(loaded))
        offsets = dict.fromkeys((stream_name(t) for t in topics), 0)
        if topics:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT name, head FROM stream_topic WHERE name IN ({', '.join(['%s'] * len(topics))})",
                               topics)
                offsets.update((stream_name(name), value) for name, value in cursor.fetchall())
    return seq, trimmed, loaded, offsets


def _rows(sql, params):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def entries(after, upto, limit=PAGE):
    """Every entry in (after, upto], oldest first, as the layer message hubs get."""
    rows = _rows("SELECT seq, text, data FROM stream_entry WHERE seq > %s AND seq <= %s ORDER BY seq LIMIT %s",
                 [after, upto, limit])
    return [_message(seq, text, data) for seq, text, data in rows]


def _message(seq, text, data):
    data = orjson.loads(data)
    message = {"type": "relay.entry", "s": seq, "text": text, "t": data["t"], "o": data["o"]}
    for key in ("v", "u"):
        if key in data:
            message[key] = data[key]
    return message


def _entries_on(topics, after, upto, limit, *, messages=True):
    """The entries in (after, upto] on any of `topics`, oldest first, at most `limit`: those
    found by their topic rows and (`messages`) the entries of the messages of those topics'
    groups and users, found by the messages' own rows (`relay.stream.topics.MessageIndex`)."""
    marks = ", ".join(["%s"] * len(topics))
    rows = _rows(
        "SELECT e.seq, e.text, e.data FROM stream_entry e WHERE e.seq IN "
        f"(SELECT DISTINCT seq FROM stream_entry_topic WHERE topic IN ({marks}) AND seq > %s AND seq <= %s) "
        "ORDER BY e.seq LIMIT %s", [*topics, after, upto, limit])
    if messages and topic_names.messages is not None:
        more = _message_entries(topic_names.messages, topics, after, upto, limit)
        if more:  # no entry is in both: a message's entry has no topic rows while its message lives
            rows = list(heapq.merge(rows, more))[:limit]
    return [_message(seq, text, data) for seq, text, data in rows]


def _message_entries(index, topics, after, upto, limit):
    """(seq, text, data) of the entries in (after, upto] of the messages of `topics`' groups and
    of the direct messages of their users. Message ids follow positions, so the messages of the
    range are those between the first and the last message entry in it: a range scan on the
    message table's indexes, however long the stream is."""
    groups = [g for t in topics if (g := group_id_of(t)) is not None]
    users = [int(t[5:]) for t in topics if t.startswith("user.")]
    if not (groups or users):
        return []
    q = connection.ops.quote_name
    group, sender, recipient = q(index.group), q(index.sender), q(index.recipient)
    where, params = [], []
    if groups:
        where.append(f"m.{group} IN ({', '.join(['%s'] * len(groups))})")
        params += groups
    for user in users:
        where += [f"m.{recipient} = %s", f"(m.{sender} = %s AND m.{recipient} IS NOT NULL)"]
        params += [user, user]
    # The first `limit` messages by id are the first by position; each finds its entry's position
    # by the entries' `message_id` index, then the entries are read by position.
    pk = f"m.{q(index.pk)}"
    bound = "SELECT message_id FROM stream_entry WHERE seq > %s AND seq <= %s AND message_id IS NOT NULL ORDER BY seq"
    return _rows(
        "SELECT e.seq, e.text, e.data FROM stream_entry e WHERE e.seq IN "
        f"(SELECT (SELECT x.seq FROM stream_entry x WHERE x.message_id = {pk}) FROM {q(index.table)} m "
        f"WHERE {pk} >= ({bound} LIMIT 1) AND {pk} <= ({bound} DESC LIMIT 1) AND ({' OR '.join(where)}) "
        f"ORDER BY {pk} LIMIT %s) ORDER BY e.seq", [after, upto, after, upto, *params, limit])


def membership_at(user_id, group_ids_now, after, upto):
    """The user's groups at position `after`, from their groups at `upto` and the changes between."""
    groups = set(group_ids_now)
    own = user_topic(user_id)
    changes = []
    cursor = after
    while True:
        page = _entries_on([own], cursor, upto, PAGE, messages=False)  # no message changes a membership
        changes += [op for m in page for op in m["o"] if op[0] in ("add", "remove") and op[1] == user_id]
        if len(page) < PAGE:
            break
        cursor = page[-1]["s"]
    touched = {op[2] for op in changes}
    for op in reversed(changes):
        if op[0] == "add":
            groups.discard(op[2])
        else:
            groups.add(op[2])
    return groups, touched


def apply_ops(user_id, groups, ops):
    """Follow one entry's membership changes for `user_id` (a set of group ids, changed in place)."""
    for op in ops:
        if op[0] == "add" and op[1] == user_id:
            groups.add(op[2])
        elif op[0] == "remove" and op[1] == user_id:
            groups.discard(op[2])


def replay(user_id, group_ids_now, after, upto, *, trimmed=0, limit=PAGE):
    """The entries in (after, upto] that `user_id` was entitled to, oldest first, as (seq, text),
    with `upto` the position at which `group_ids_now` was read; at most `limit` of them, and
    the position the page reached (start the next page from there)."""
    if after < trimmed:
        raise TooOld()
    groups, touched = membership_at(user_id, group_ids_now, after, upto)
    own = user_topic(user_id)
    topics = [own] + [group_topic(g) for g in sorted(groups | touched | set(group_ids_now))]
    out = []
    cursor = after
    while len(out) < limit:
        page = _entries_on(topics, cursor, upto, PAGE)
        for m in page:
            apply_ops(user_id, groups, m["o"])
            cursor = m["s"]
            if m["text"] and (own in m["t"] or any(group_id_of(t) in groups for t in m["t"])):
                out.append((m["s"], text_for(m, user_id)))
                if len(out) >= limit:
                    break
        if len(page) < PAGE:
            cursor = upto if len(out) < limit else cursor
            break
    return out, cursor


def legacy_start(message_id, upto):
    """For `since=<message id>`: the position just before the first message with a larger id
    (message ids follow commit order), or `upto` if there is none; and the smallest message id
    the stream holds (older messages come from the messages table)."""
    rows = _rows("SELECT MIN(seq) FROM stream_entry WHERE message_id > %s AND seq <= %s", [message_id, upto])
    first = rows[0][0]
    oldest = _rows("SELECT MIN(message_id) FROM stream_entry", [])[0][0]
    return (upto if first is None else first - 1), oldest


def _stored_before(before_time, low, high):
    """The newest position in (low, high] stored before `before_time`, or `low`: a binary search
    on positions (times grow with them), so no index on the time is kept up on every write."""
    while low < high:
        middle = (low + high + 1) // 2
        rows = _rows("SELECT at FROM stream_entry WHERE seq >= %s ORDER BY seq LIMIT 1", [middle])
        if rows and rows[0][0] < before_time:
            low = middle
        else:
            high = middle - 1
    return low


def trim(before_time):
    """Forget entries stored before `before_time` (Unix time); returns how many."""
    with transaction.atomic():
        newest, trimmed = head()
        upto = _stored_before(before_time, trimmed, newest)
        if upto <= trimmed:
            return 0
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM stream_entry_topic WHERE seq <= %s", [upto])
            cursor.execute("DELETE FROM stream_entry WHERE seq <= %s", [upto])
            count = cursor.rowcount
            cursor.execute("UPDATE stream_head SET trimmed = %s WHERE id = 1 AND trimmed < %s", [upto, upto])
    return count
