"""Fixed-window counters in Redis, so every chatd process sees the same counts.

On a Redis Cluster (`cluster=True`) each counter's key carries a hash tag (`chatd:rate:{<key>}`)
and each window update is one Lua script on that key's shard, instead of one MULTI/EXEC over
several keys (which a cluster refuses when the keys live on different slots).
"""

import asyncio

import redis.asyncio as redis

from chatd.infrastructure.group_commit import GroupCommit
from chatd.infrastructure.outages import OUTAGES, unavailable_on_outage

# KEYS[1] the counter; ARGV[1] the window (s). The count and the seconds left in the window.
COUNT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local count = redis.call('INCR', KEYS[1])
return {count, redis.call('TTL', KEYS[1])}
"""


class _WindowScript:
    """The cluster's window update: one script call per key, each on its own shard."""

    def __init__(self, client: redis.Redis, window: int) -> None:
        self._script = client.register_script(COUNT)
        self._window = window

    async def counts(self, names: list[str]) -> list[tuple[int, int]]:
        replies = await asyncio.gather(
            *(self._script(keys=[name], args=[self._window]) for name in names)
        )
        return [(int(count), int(ttl)) for count, ttl in replies]


@unavailable_on_outage
class RedisFailureLimiter:
    def __init__(
        self, client: redis.Redis, *, limit: int, window_seconds: int, cluster: bool = False
    ) -> None:
        self._client = client
        self._limit = limit  # 0: no limit
        self._window = window_seconds
        self._cluster = _WindowScript(client, window_seconds) if cluster else None

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
        if self._cluster is not None:
            await self._cluster.counts([self._name(key) for key in keys])
            return
        async with self._client.pipeline(transaction=True) as pipe:
            for key in keys:
                # The window opens at the first failure and closes `window` seconds later.
                pipe.set(self._name(key), 0, ex=self._window, nx=True)
                pipe.incr(self._name(key))
            await pipe.execute()

    def _name(self, key: str) -> str:
        return f"chatd:failures:{{{key}}}" if self._cluster else f"chatd:failures:{key}"


@unavailable_on_outage
class RedisRateLimiter:
    def __init__(
        self, client: redis.Redis, *, limit: int, window_seconds: int, cluster: bool = False
    ) -> None:
        self._client = client
        self._limit = limit  # 0: no limit
        self._window = window_seconds
        self._cluster = _WindowScript(client, window_seconds) if cluster else None
        # Concurrent acquisitions of this process share one MULTI/EXEC (group commit).
        self._counts: GroupCommit[str, int] = GroupCommit(self._count, outages=OUTAGES)

    async def acquire(self, key: str) -> int:
        if not self._limit:
            return 0
        if self._cluster is not None:
            [(count, ttl)] = await self._cluster.counts([f"chatd:rate:{{{key}}}"])
            return 0 if count <= self._limit else max(ttl, 1)
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
