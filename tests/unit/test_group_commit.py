"""GroupCommit batches what was submitted while a flush was in flight; when a flush fails with
an outage, what queued behind it fails at once rather than waiting out another timeout."""

import asyncio

import pytest

from chatd.infrastructure.group_commit import GroupCommit


class Flushes:
    """A flush that records its batches, waits for `release`, and then fails the first batch
    with `error` (if any)."""

    def __init__(self, error: Exception | None = None) -> None:
        self.batches: list[list[int]] = []
        self.error = error
        self.release = asyncio.Event()

    async def __call__(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await self.release.wait()
        if self.error is not None and len(self.batches) == 1:
            raise self.error
        return [item * 10 for item in items]


async def submit_all(commit: GroupCommit, items: range) -> list[asyncio.Task]:
    tasks = [asyncio.create_task(commit.submit(item)) for item in items]
    await asyncio.sleep(0)  # every submit has queued (the first flush has started)
    return tasks


async def test_what_queues_during_a_flush_goes_out_together_next():
    flush = Flushes()
    commit = GroupCommit(flush)
    first = await submit_all(commit, range(1, 2))
    rest = await submit_all(commit, range(2, 5))
    flush.release.set()
    assert await asyncio.gather(*first, *rest) == [10, 20, 30, 40]
    assert flush.batches == [[1], [2, 3, 4]]


async def test_an_outage_fails_what_queued_behind_it_at_once():
    flush = Flushes(ConnectionError("down"))
    commit = GroupCommit(flush, outages=(ConnectionError,))
    first = await submit_all(commit, range(1, 2))
    queued = await submit_all(commit, range(2, 5))
    flush.release.set()
    results = await asyncio.gather(*first, *queued, return_exceptions=True)
    assert [type(result) for result in results] == [ConnectionError] * 4
    assert flush.batches == [[1]]  # the queued ones were never sent to the dead server


async def test_another_failure_fails_only_its_own_batch():
    flush = Flushes(ValueError("bad batch"))
    commit = GroupCommit(flush, outages=(ConnectionError,))
    first = await submit_all(commit, range(1, 2))
    queued = await submit_all(commit, range(2, 4))
    flush.release.set()
    with pytest.raises(ValueError):
        await first[0]
    assert await asyncio.gather(*queued) == [20, 30]
    assert flush.batches == [[1], [2, 3]]
