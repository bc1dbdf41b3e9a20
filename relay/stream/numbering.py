"""Numbering: where the stream's order is decided.

Entries queued by an action (`relay.stream.publish`) are numbered right before the
transaction commits (`number_pending`, called by the database backends in
`relay.stream.backends`): the UPDATE of the `stream_head` row takes the next positions,
and its row lock, held until the commit, makes positions follow commit order. Rows
whose ids a client compares (messages, for `since=`) are written under the same lock
(`insert_in_order`), so their ids follow commit order too; the entries the transaction
queued before it take their positions in the same statement.

Everything done under the lock is serialized across processes: keep it to a few round
trips, with rows built before the lock is taken.
"""

import time
from collections import Counter

import orjson
import psycopg
from django.db import connection, models, transaction

from relay.stream import topics as topic_names
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
    on PostgreSQL one or two statements, whatever the number of entries and topics. Entries
    whose positions `insert_in_order` already took (the first ones) keep them."""
    fresh = [entry for entry in entries if entry.reserved is None]
    with db.cursor() as cursor:
        if fresh:
            counts = _counts(fresh)
            _reserve(fresh, _advance(cursor, len(fresh), counts), counts)
        now = time.time()
        rows, topic_rows = [], []
        by_message = topic_names.messages is not None
        for entry in entries:
            entry.number(*entry.reserved)
            rows.append((entry.seq, now, entry.text, entry.data(), entry.message_id))
            if not (by_message and entry.message_id is not None):  # found through its message's row
                topic_rows.extend((topic, entry.seq) for topic in entry.topics)
        _insert(db, cursor, [(*_ENTRIES, rows), (*_ENTRY_TOPICS, topic_rows)])


def _counts(entries):
    """How many of `entries` each topic's stream gets (an entry without an event only changes
    memberships: it is in no topic's stream)."""
    return Counter(t for entry in entries if entry.event is not None for t in entry.topics)


def _reserve(entries, heads, counts):
    """Give `entries` the positions that the head's move by len(entries) took, in order, and
    their offsets in each topic's stream (`heads`: {None: head, topic: its head}, as moved)."""
    first = heads.pop(None) - len(entries) + 1
    offsets = {name: head - counts[name] + 1 for name, head in heads.items()}
    for i, entry in enumerate(entries):
        streams = {}
        if entry.event is not None:
            for topic in entry.topics:
                streams[stream_name(topic)] = offsets[topic]
                offsets[topic] += 1
        entry.reserved = (first + i, streams)


def _reservable(db):
    """The transaction's queued entries that nothing but the whole transaction's rollback can
    drop, from the first on: an entry queued inside a savepoint (which may roll back alone,
    leaving a hole in the stream) and every one after it are left to be numbered at commit.
    None inside a savepoint: its rollback would undo the positions taken, not the entries."""
    if any(db.savepoint_ids):
        return []
    entries = []
    for savepoints, func, _ in db.run_on_commit:
        entry = getattr(func, "stream_entry", None)
        if entry is None or entry.seq is not None or entry.reserved is not None:
            continue
        if any(savepoints):
            break
        entries.append(entry)
    return entries


_ENTRIES = ("stream_entry (seq, at, text, data, message_id)", ["bigint", "float8", "text", "text", "bigint"])
_ENTRY_TOPICS = ("stream_entry_topic (topic, seq)", ["text", "bigint"])


_HEAD = ("INSERT INTO stream_head (id, seq, trimmed) VALUES (1, %s, 0) ON CONFLICT (id) "
         "DO UPDATE SET seq = stream_head.seq + excluded.seq RETURNING seq")


def _advance(cursor, count, topics):
    """Move the head by `count` and each topic's head by its count in `topics` (on PostgreSQL
    in one statement); returns {None: head, topic: its head}. The head is locked before any topic
    (the topics' upsert reads its row), so that two transactions never wait on each other."""
    if not topics or cursor.db.vendor != "postgresql":  # SQLite writes no rows from a WITH
        cursor.execute(_HEAD, [count])
        heads = {None: cursor.fetchone()[0]}
        if topics:
            names = sorted(topics)
            values = ", ".join(["(%s, %s)"] * len(names))
            cursor.execute(f"INSERT INTO stream_topic (name, head) VALUES {values} ON CONFLICT (name) "
                           "DO UPDATE SET head = stream_topic.head + excluded.head RETURNING name, head",
                           [v for name in names for v in (name, topics[name])])
            heads.update(cursor.fetchall())
        return heads
    topics_sql, topics_params = _topics_upsert(topics)
    cursor.execute(f"WITH head AS ({_HEAD}), topics AS ({topics_sql}) "
                   "SELECT NULL, seq FROM head UNION ALL SELECT name, head FROM topics", [count, *topics_params])
    return dict(cursor.fetchall())


def _topics_upsert(topics):
    """PostgreSQL: the statement that moves each topic's head by its count, once the CTE `head`
    holds the head's row (read here, so it is locked first)."""
    names = sorted(topics)
    values = ", ".join(["(%s::text, %s::bigint)"] * len(names))
    return (f"INSERT INTO stream_topic (name, head) SELECT v.name, v.n FROM (VALUES {values}) AS v (name, n), head "
            "ORDER BY v.name ON CONFLICT (name) DO UPDATE SET head = stream_topic.head + excluded.head "
            "RETURNING name, head"), [v for name in names for v in (name, topics[name])]


# Rows go to PostgreSQL as one JSON array of arrays per table, a single parameter bound by the
# server: orjson encodes it in C and the server takes it apart, where binding every value costs
# Python time (measured on 100 rows: 0.3 ms of client CPU, against 0.5 by COPY, which also takes
# two round trips a table, and 1.1 by arrays). One round trip, whatever the batch's size. The
# server reads it as `jsonb`, parsed once: each `->>` of a `json` value parses the row's text
# again (measured on 50 stream entries: 0.38 against 0.64 ms of the server's CPU).
def _json(rows):
    return orjson.dumps(rows).decode()


def _from_json(types, row="r"):
    """The select list that reads a row of `types` from the JSON array `row`."""
    return ", ".join(f"({row}->>{i})::{t}" for i, t in enumerate(types))


def _insert(db, cursor, tables):
    """Insert rows into tables: `tables` is [("name (columns)", column types, rows)]. On
    PostgreSQL one statement for all of them (one round trip under the lock)."""
    tables = [(table, types, rows) for table, types, rows in tables if rows]
    if db.vendor != "postgresql":
        for table, _, rows in tables:
            for start in range(0, len(rows), _CHUNK):
                cursor.execute(*_values(table, rows[start:start + _CHUNK]))
        return
    if tables:
        inserts = [f"INSERT INTO {table} SELECT {_from_json(types)} FROM jsonb_array_elements(%s::jsonb) r"
                   for table, types, _ in tables]
        ctes = ", ".join(f"t{i} AS ({sql})" for i, sql in enumerate(inserts[:-1]))
        sql = f"WITH {ctes} {inserts[-1]}" if ctes else inserts[-1]
        _execute_bound(db, sql, [_json(rows) for _, _, rows in tables])


def _execute_bound(db, sql, params):
    """Run `sql` with its parameters bound by the server; returns the rows it answers."""
    with db.wrap_database_errors, psycopg.Cursor(db.connection) as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _values(table, rows):
    marks = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
    return f"INSERT INTO {table} VALUES " + ", ".join([marks] * len(rows)), [v for row in rows for v in row]


def lock():
    """Take the stream's lock now, in the current transaction (held until it ends): what is
    written after this commits in the stream's order."""
    with connection.cursor() as cursor:
        cursor.execute(_HEAD, [0])


# Fields whose Python values orjson writes as PostgreSQL reads them back from JSON text, so
# Django's preparation for the driver is skipped (measured: a third of building a batch's rows).
_PLAIN = {models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField,
          models.PositiveIntegerField, models.BooleanField, models.CharField, models.TextField,
          models.DateTimeField}


def _plain_value(obj, field):
    """A plain field's value as set (a time set by the caller is kept), else the one the field
    gives a new row (an `auto_now_add` time)."""
    value = getattr(obj, field.attname)
    return field.pre_save(obj, True) if value is None else value


def insert_in_order(objs):
    """Store new instances of one model with ids that follow the stream's order (a client's
    `since=<message id>` relies on it): the ids are taken under the stream's lock, which this
    takes. Call it inside the action's transaction; each instance gets its `pk`.

    On PostgreSQL the rows are built before the lock, and one statement takes the lock, draws
    the ids from the table's sequence and writes the rows. Elsewhere the database has a
    single writer anyway."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        lock()
        type(objs[0]).objects.bulk_create(objs)
        return
    db = transaction.get_connection()
    meta = objs[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    plain = [type(f) in _PLAIN or (f.is_relation and type(f.target_field) in _PLAIN) for f in fields]
    rows = [[_plain_value(obj, f) if p else f.get_db_prep_save(f.pre_save(obj, True), db)
             for f, p in zip(fields, plain, strict=True)] for obj in objs]
    table, pk_column = db.ops.quote_name(meta.db_table), db.ops.quote_name(meta.pk.column)
    columns = ", ".join(db.ops.quote_name(f.column) for f in fields)
    # The head's row is locked before any id is drawn (each id is drawn for a row joined with the
    # locked one); the ids, in order, go to the rows in order. The entries the transaction has
    # queued so far take their positions in the same statement (`_reserve`): one statement
    # less under the lock at commit.
    entries = _reservable(db)
    counts = _counts(entries)
    topics_sql, topics_params = _topics_upsert(counts)
    stored = _execute_bound(db, (
        f"WITH head AS ({_HEAD}), "
        + (f"topics AS ({topics_sql}), " if counts else "")
        + "drawn AS (SELECT nextval(pg_get_serial_sequence(%s, %s)) AS id FROM generate_series(1, %s), head), "
        "numbered AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM drawn), "
        f"stored AS (INSERT INTO {table} ({pk_column}, {columns}) SELECT numbered.id, "
        f"{_from_json([f.db_type(db) for f in fields], 'r.v')} "
        f"FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS r (v, n) JOIN numbered USING (n) "
        f"RETURNING {pk_column}) "
        f"SELECT 0, NULL, {pk_column} FROM stored UNION ALL SELECT 1, NULL, seq FROM head"
        + (" UNION ALL SELECT 2, name, head FROM topics" if counts else "")
    ), [len(entries), *topics_params, meta.db_table, meta.pk.column, len(objs), _json(rows)])
    if entries:
        _reserve(entries, {None if kind == 1 else name: value for kind, name, value in stored if kind}, counts)
    ids = sorted(value for kind, _, value in stored if kind == 0)
    for obj, pk in zip(objs, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = db.alias
