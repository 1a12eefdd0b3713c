"""Readiness: whether PostgreSQL and Redis answer now (for /readyz)."""

import asyncio
from collections.abc import Awaitable

import asyncpg
import redis.asyncio as redis

PROBE_TIMEOUT = 2.0


class DependencyProbe:
    def __init__(self, *, pool: asyncpg.Pool, redis_client: redis.Redis) -> None:
        self._pool = pool
        self._redis = redis_client

    async def check(self) -> dict[str, bool]:
        postgres, redis_ok = await asyncio.gather(
            _answers(self._pool.fetchval("SELECT 1")), _answers(self._redis.ping())
        )
        return {"postgres": postgres, "redis": redis_ok}


async def _answers(check: Awaitable) -> bool:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT)
    except Exception:
        return False
    return True
