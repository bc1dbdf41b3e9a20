"""Calls that go together: what is asked while one batch is out waits and goes in the next.

The relay uses this wherever one round trip can carry many calls: Redis PUBLISHes,
ticket GETDELs, message INSERTs. Batches grow with the load (an idle process sends a
lone call at once) and keep the order the calls came in.
"""

import asyncio


class Batched:
    """`submit(item)` returns a future for that item's result.

    `run(items)` gets the waiting items in order (at most `limit`) and returns one
    result per item; an exception instance among them fails that item alone. If
    `run` raises, every item of that batch fails with the error. One batch at a time,
    per event loop: make one `Batched` per loop.
    """

    def __init__(self, run, *, name, limit=None):
        self._run = run
        self._name = name
        self._limit = limit
        self._waiting = []
        self._task = None

    def submit(self, item) -> asyncio.Future:
        future = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain(), name=self._name)
        return future

    async def _drain(self):
        try:
            while self._waiting:
                cut = len(self._waiting) if self._limit is None else self._limit
                batch, self._waiting = self._waiting[:cut], self._waiting[cut:]
                try:
                    results = await self._run([item for item, _ in batch])
                except Exception as exc:
                    results = [exc] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its caller gave up
                        continue
                    if isinstance(result, BaseException):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._task = None
