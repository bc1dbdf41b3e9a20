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
    """Number `entries` (this transaction's, in the order they were queued) and store them:
    on PostgreSQL two statements, whatever the number of entries and topics (more round
    trips for a batch large enough to go by COPY, `_insert`)."""
    with db.cursor() as cursor:
        counts = Counter(t for entry in entries if entry.event is not None for t in entry.topics)
        heads = _advance(cursor, len(entries), counts)
        first = heads.pop(None) - len(entries) + 1
        offsets = {name: head - counts[name] + 1 for name, head in heads.items()}
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
        _insert(db, cursor, [("stream_entry (seq, at, text, data, message_id)", rows),
                             ("stream_entry_topic (topic, seq)", topic_rows)])


_HEAD = ("INSERT INTO stream_head (id, seq, trimmed) VALUES (1, %s, 0) ON CONFLICT (id) "
         "DO UPDATE SET seq = stream_head.seq + excluded.seq RETURNING seq")


def _advance(cursor, count, topics):
    """Move the head by `count` and each topic's head by its count in `topics` (on PostgreSQL
    in one statement); returns {None: head, topic: its head}. The head is locked before any topic
    (the topics' upsert reads its row), so that two transactions never wait on each other."""
    names = sorted(topics)
    values = ", ".join(["(%s, %s)"] * len(names))
    if not names or cursor.db.vendor != "postgresql":  # SQLite writes no rows from a WITH
        cursor.execute(_HEAD, [count])
        heads = {None: cursor.fetchone()[0]}
        if names:
            cursor.execute(f"INSERT INTO stream_topic (name, head) VALUES {values} ON CONFLICT (name) "
                           "DO UPDATE SET head = stream_topic.head + excluded.head RETURNING name, head",
                           [v for name in names for v in (name, topics[name])])
            heads.update(cursor.fetchall())
        return heads
    cursor.execute(
        f"WITH head AS ({_HEAD}), topics AS (INSERT INTO stream_topic (name, head) "
        f"SELECT v.name, v.n FROM (VALUES {values}) AS v (name, n), head ORDER BY v.name "
        "ON CONFLICT (name) DO UPDATE SET head = stream_topic.head + excluded.head RETURNING name, head) "
        "SELECT NULL, seq FROM head UNION ALL SELECT name, head FROM topics",
        [count, *(v for name in names for v in (name, topics[name]))])
    return dict(cursor.fetchall())


# Up to this many rows in all, one INSERT statement writes them (one round trip under the
# lock); more go by COPY, which costs two round trips per table but binds the values in C.
_SMALL = 64


def _insert(db, cursor, tables):
    """Insert rows into tables: `tables` is [("name (columns)", rows)]. On PostgreSQL a large
    batch goes by COPY: psycopg then writes the values in C, where an INSERT's client-side
    binding quotes every one in Python (measured: storing the stream cost more than storing
    the messages). A small one is one statement for all the tables, as few round trips under
    the lock as there can be."""
    tables = [(table, rows) for table, rows in tables if rows]
    if db.vendor == "postgresql" and sum(len(rows) for _, rows in tables) > _SMALL:
        for table, rows in tables:
            with cursor.cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        return
    if db.vendor == "postgresql" and len(tables) > 1:
        parts = [_values(table, rows) for table, rows in tables]
        ctes = ", ".join(f"t{i} AS ({sql})" for i, (sql, _) in enumerate(parts[:-1]))
        cursor.execute(f"WITH {ctes} {parts[-1][0]}", [v for _, params in parts for v in params])
        return
    for table, rows in tables:
        for start in range(0, len(rows), _CHUNK):
            cursor.execute(*_values(table, rows[start:start + _CHUNK]))


def _values(table, rows):
    marks = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(rows)), [v for row in rows for v in row]


def lock():
    """Take the stream's lock now, in the current transaction (held until it ends): what is
    written after this commits in the stream's order."""
    with connection.cursor() as cursor:
        cursor.execute(_HEAD, [0])


def insert_in_order(objs):
    """Store new instances of one model with ids that follow the stream's order (a client's
    `since=<message id>` relies on it): the ids are taken under the stream's lock, which this
    takes. Call it inside the action's transaction; each instance gets its `pk`.

    On PostgreSQL the rows are built before the lock; one statement takes the lock and draws
    the ids from the table's sequence, and one more writes the rows (COPY for a large batch).
    Elsewhere the database has a single writer anyway."""
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
    table = f"{db.ops.quote_name(meta.db_table)} ({', '.join(db.ops.quote_name(c) for c in [meta.pk.column] + [f.column for f in fields])})"
    with db.cursor() as cursor:
        # One statement: the head's row is locked before any id is drawn (each id is drawn
        # for a row joined with the locked one).
        cursor.execute(f"WITH head AS ({_HEAD}) SELECT nextval(pg_get_serial_sequence(%s, %s)) "
                       "FROM generate_series(1, %s), head",
                       [0, meta.db_table, meta.pk.column, len(objs)])
        ids = sorted(row[0] for row in cursor.fetchall())
        _insert(db, cursor, [(table, [[pk, *row] for pk, row in zip(ids, rows, strict=True)])])
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db.alias
