"""Group commit: many concurrent calls, one round trip.

Callers submit items and wait for their own result; one task flushes the queue at a time, so a
batch is whatever was submitted while the previous flush was in flight. Nothing waits for a batch
to fill: at light load a batch is one item and is sent at once.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

# One result per item, in order: a value, or the exception that item's caller gets.
Flush = Callable[[list[T]], Awaitable[list[R | Exception]]]


class GroupCommit(Generic[T, R]):
    def __init__(
        self,
        flush: Flush,
        *,
        max_batch: int = 1000,
        outages: tuple[type[Exception], ...] = (),
    ) -> None:
        self._flush = flush
        self._max_batch = max_batch
        # A flush failing with one of these means the server is down: what was submitted
        # meanwhile fails with it at once, instead of waiting out another timeout behind it.
        self._outages = outages
        self._queue: list[tuple[T, asyncio.Future[R]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0  # flushes so far (for tests and metrics)

    async def submit(self, item: T) -> R:
        """The item's result, once the batch it went out in has completed. If the whole flush
        fails, every caller of that batch gets its exception."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._queue.append((item, future))
        if self._flusher is None:
            self._flusher = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                self.batches += 1
                try:
                    results = await self._flush([item for item, _ in batch])
                except Exception as error:
                    if isinstance(error, self._outages):
                        batch += self._queue
                        self._queue.clear()
                    results = [error] * len(batch)
                for (_, future), result in zip(batch, results, strict=True):
                    if future.done():  # its caller was cancelled
                        continue
                    if isinstance(result, Exception):
                        future.set_exception(result)
                    else:
                        future.set_result(result)
        finally:
            self._flusher = None
