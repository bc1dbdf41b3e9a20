"""config.batching.Batched: what waits goes in the next batch, in order, each answered on its own."""

import asyncio

import pytest

from config.batching import Batched


async def test_calls_made_while_a_batch_is_out_go_together_in_order():
    seen = []

    async def run(items):
        seen.append(list(items))
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    batched = Batched(run, name="test", limit=3)
    first = batched.submit(1)
    await asyncio.sleep(0)  # the first batch is out
    rest = [batched.submit(n) for n in range(2, 7)]
    assert await asyncio.gather(first, *rest) == [10, 20, 30, 40, 50, 60]
    assert seen == [[1], [2, 3, 4], [5, 6]]


async def test_an_item_can_fail_alone_and_a_failed_batch_fails_all_its_items():
    async def run(items):
        if "boom" in items:
            raise RuntimeError("the whole batch")
        return [ValueError(item) if item == "bad" else item for item in items]

    batched = Batched(run, name="test")
    good, bad = batched.submit("good"), batched.submit("bad")
    assert await good == "good"
    with pytest.raises(ValueError):
        await bad
    later = [batched.submit("x"), batched.submit("boom")]
    for future in later:
        with pytest.raises(RuntimeError):
            await future
