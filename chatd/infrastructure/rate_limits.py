"""Fixed-window counters in Redis, so every chatd process sees the same counts."""

import redis.asyncio as redis

from chatd.infrastructure.group_commit import GroupCommit
from chatd.infrastructure.outages import OUTAGES, unavailable_on_outage


@unavailable_on_outage
class RedisFailureLimiter:
    def __init__(self, client: redis.Redis, *, limit: int, window_seconds: int) -> None:
        self._client = client
        self._limit = limit  # 0: no limit
        self._window = window_seconds

    async def retry_after(self, keys: list[str]) -> int:
        if not self._limit:
            return 0
        async with self._client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(self._name(key))
                pipe.ttl(self._name(key))
            replies = await pipe.execute()
        waits = [
            max(ttl, 1)
            for count, ttl in zip(replies[::2], replies[1::2], strict=True)
            if count is not None and int(count) >= self._limit
        ]
        return max(waits, default=0)

    async def record_failure(self, keys: list[str]) -> None:
        if not self._limit:
            return
        async with self._client.pipeline(transaction=True) as pipe:
            for key in keys:
                # The window opens at the first failure and closes `window` seconds later.
                pipe.set(self._name(key), 0, ex=self._window, nx=True)
                pipe.incr(self._name(key))
            await pipe.execute()

    @staticmethod
    def _name(key: str) -> str:
        return f"chatd:failures:{key}"


@unavailable_on_outage
class RedisRateLimiter:
    def __init__(self, client: redis.Redis, *, limit: int, window_seconds: int) -> None:
        self._client = client
        self._limit = limit  # 0: no limit
        self._window = window_seconds
        # Concurrent acquisitions of this process share one MULTI/EXEC (group commit).
        self._counts: GroupCommit[str, int] = GroupCommit(self._count, outages=OUTAGES)

    async def acquire(self, key: str) -> int:
        if not self._limit:
            return 0
        return await self._counts.submit(f"chatd:rate:{key}")

    async def _count(self, names: list[str]) -> list[int]:
        async with self._client.pipeline(transaction=True) as pipe:
            for name in names:
                # The window opens at the first event and closes `window` seconds later.
                pipe.set(name, 0, ex=self._window, nx=True)
                pipe.incr(name)
                pipe.ttl(name)
            replies = await pipe.execute()
        counts, ttls = replies[1::3], replies[2::3]
        return [
            0 if count <= self._limit else max(ttl, 1)
            for count, ttl in zip(counts, ttls, strict=True)
        ]
