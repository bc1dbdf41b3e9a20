"""Where the relay runs ORM work: in parallel where the database allows it."""

from channels.db import DatabaseSyncToAsync
from django.db import connections


def pooled(fn):
    """An async callable running `fn` (ORM work) off the event loop.

    On PostgreSQL it runs in the shared worker pool, each thread with its own
    connection, so the actions and message batches of different sockets do not queue
    behind each other's round trips on Channels' single database thread. SQLite takes one
    writer at a time (its shared in-memory test database even refuses a reader
    during a write), so there it stays on that single thread.
    """
    parallel = DatabaseSyncToAsync(fn, thread_sensitive=False)
    single = DatabaseSyncToAsync(fn, thread_sensitive=True)

    async def run(*args, **kwargs):
        concurrent = connections["default"].vendor != "sqlite"
        return await (parallel if concurrent else single)(*args, **kwargs)

    return run
