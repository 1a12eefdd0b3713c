"""What both event buses (one Redis, and each shard of a Redis Cluster) do with a subscriber
connection: run its jobs until one fails, and find a connection that went silent without closing
(a paused Redis, a lost route), which a read with no timeout would wait on forever."""

import asyncio
from collections.abc import Coroutine
from typing import Any

import redis.asyncio as redis

HEALTH_INTERVAL = 5.0
HEALTH_MESSAGE = "chatd-health"


class NoPong(ConnectionError):
    """Redis did not answer the bus's PING in time: the connection is taken for dead."""


class HealthCheck:
    """A PING every `interval` seconds on a Pub/Sub connection; no PONG within one more interval
    raises NoPong. The connection's reader calls `pong()` when it reads one."""

    def __init__(self, interval: float = HEALTH_INTERVAL) -> None:
        self.interval = interval
        self._pong = asyncio.Event()

    def pong(self) -> None:
        self._pong.set()

    async def run(self, pubsub: redis.client.PubSub) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self._pong.clear()
            await pubsub.ping(HEALTH_MESSAGE)
            try:
                await asyncio.wait_for(self._pong.wait(), self.interval)
            except TimeoutError:
                raise NoPong(f"no PONG within {self.interval}s") from None


async def serve_until_failure(*jobs: Coroutine[Any, Any, None]) -> None:
    """Run one connection's jobs (reading, sending commands, the health check) until any of
    them fails; then stop them all and raise that failure."""
    tasks = [asyncio.create_task(job) for job in jobs]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        for task in done:
            task.result()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
