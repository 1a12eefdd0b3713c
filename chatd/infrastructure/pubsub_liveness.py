"""What both event buses (one Redis, and each shard of a Redis Cluster) do with a subscriber
connection: keep it connected (reconnecting with backoff), run its jobs until one fails, and find
a connection that went silent without closing (a paused Redis, a lost route), which a read with
no timeout would wait on forever."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import redis.asyncio as redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

BACKOFF_START, BACKOFF_MAX = 0.05, 2.0
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


async def keep_connected(
    name: str,
    *,
    stopping: Callable[[], bool],
    connect: Callable[[], Awaitable[redis.client.PubSub]],
    serve: Callable[[redis.client.PubSub], Awaitable[None]],
    drop: Callable[[], Awaitable[None]],
) -> None:
    """Connect and serve; on any failure drop the connection and connect again, with backoff,
    until `stopping()`."""
    backoff = BACKOFF_START
    while not stopping():
        try:
            pubsub = await connect()
            if stopping():
                return
            backoff = BACKOFF_START
            await serve(pubsub)
        except (RedisError, OSError) as error:
            log.warning("%s lost (%s); reconnecting in %.2fs", name, error, backoff)
        except Exception:
            log.exception("%s failed; reconnecting in %.2fs", name, backoff)
        await drop()
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, BACKOFF_MAX)


async def cancel_until_done(task: asyncio.Task[None] | None) -> None:
    """Cancel until it ends: a cancellation landing inside redis-py's connect can be lost."""
    while task is not None and not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
