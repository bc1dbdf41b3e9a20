"""Numbering: where the stream's order is decided.

Entries queued by an action (`relay.stream.publish`) are numbered right before the
transaction commits (`number_pending`, called by the database backends in
`relay.stream.backends`): the UPDATE of the `stream_head` row takes the next positions,
and its row lock, held until the commit, makes positions follow commit order. Rows
whose ids a client compares (messages, for `since=`) are written under the same lock
(`insert_in_order`), so their ids follow commit order too.

Everything done under the lock is serialized across processes: keep it to a few round
trips, with rows built before the lock is taken.
"""

import time
from collections import Counter

from django.db import connection, transaction

from relay.stream.topics import stream_name


def pending_entries(db):
    """The entries queued in this connection's transaction (savepoints rolled back are gone)."""
    return [entry for _, func, _ in db.run_on_commit
            if (entry := getattr(func, "stream_entry", None)) is not None and entry.seq is None]


_CHUNK = 500


def number_pending(db):
    """Number and store the transaction's queued entries: called by the database backend
    right before COMMIT. The UPDATE of the head row is the stream's lock: held until the
    commit, it makes positions (and the ids of messages written under it) follow commit order."""
    entries = pending_entries(db)
    if entries:
        store(db, entries)


def store(db, entries):
    """Number `entries` (this transaction's, in the order they were queued) and store them."""
    with db.cursor() as cursor:
        first = _advance_head(cursor, len(entries)) - len(entries) + 1
        counts = Counter(t for entry in entries if entry.event is not None for t in entry.topics)
        offsets = {}
        if counts:
            names = sorted(counts)
            values = ", ".join(["(%s, %s)"] * len(names))
            cursor.execute(
                f"INSERT INTO stream_topic (name, head) VALUES {values} ON CONFLICT (name) "
                "DO UPDATE SET head = stream_topic.head + excluded.head RETURNING name, head",
                [v for name in names for v in (name, counts[name])])
            offsets = {name: head - counts[name] + 1 for name, head in cursor.fetchall()}
        now = time.time()
        rows, topic_rows = [], []
        for i, entry in enumerate(entries):
            streams = {}
            if entry.event is not None:
                for topic in entry.topics:
                    streams[stream_name(topic)] = offsets[topic]
                    offsets[topic] += 1
            entry.number(first + i, streams)
            rows.append((entry.seq, now, entry.text, entry.data(), entry.message_id))
            topic_rows.extend((topic, entry.seq) for topic in entry.topics)
        _insert(db, cursor, "stream_entry (seq, at, text, data, message_id)", rows)
        _insert(db, cursor, "stream_entry_topic (topic, seq)", topic_rows)


def _insert(db, cursor, table, rows):
    """Insert `rows` into `table` ("name (columns)"). On PostgreSQL with COPY: psycopg then
    writes the values in C, where an INSERT's client-side binding quotes every one in Python
    (measured: storing the stream cost more than storing the messages)."""
    if db.vendor == "postgresql":
        with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = "(" + ", ".join(["%s"] * len(rows[0])) + ")" if rows else ""
    for start in range(0, len(rows), _CHUNK):
        chunk = rows[start:start + _CHUNK]
        cursor.execute(f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(chunk)), [v for row in chunk for v in row])


def lock():
    """Take the stream's lock now, in the current transaction (held until it ends): what is
    written after this commits in the stream's order."""
    with connection.cursor() as cursor:
        _advance_head(cursor, 0)


def _advance_head(cursor, count):
    """Move the head by `count` and return it; the row lock lasts until the transaction ends.
    (An upsert: the row is made on first use, e.g. after a test flushed the tables.)"""
    cursor.execute("INSERT INTO stream_head (id, seq, trimmed) VALUES (1, %s, 0) ON CONFLICT (id) "
                   "DO UPDATE SET seq = stream_head.seq + excluded.seq RETURNING seq", [count])
    return cursor.fetchone()[0]


def insert_in_order(objs):
    """Store new instances of one model with ids that follow the stream's order (a client's
    `since=<message id>` relies on it): the ids are taken under the stream's lock, which this
    takes. Call it inside the action's transaction; each instance gets its `pk`.

    On PostgreSQL the rows are built before the lock and written with COPY under it, ids drawn
    from the table's sequence in one query, so the lock is held for three round trips and no
    Python per row beyond psycopg's own. Elsewhere the database has a single writer anyway."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        lock()
        type(objs[0]).objects.bulk_create(objs)
        return
    db = transaction.get_connection()
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), db) for f in fields] for obj in objs]
    columns = ", ".join(db.ops.quote_name(c) for c in [meta.pk.column] + [f.column for f in fields])
    lock()
    with db.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [meta.db_table, meta.pk.column, len(objs)])
        ids = [row[0] for row in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {db.ops.quote_name(meta.db_table)} ({columns}) FROM STDIN") as copy:
            for pk, row in zip(ids, rows, strict=True):
                copy.write_row([pk, *row])
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db.alias
