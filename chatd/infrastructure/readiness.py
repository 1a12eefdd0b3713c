"""Readiness: whether PostgreSQL and Redis answer now (for /readyz)."""

import asyncio
from collections.abc import Awaitable

import asyncpg
import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster

PROBE_TIMEOUT = 2.0


class DependencyProbe:
    def __init__(self, *, pool: asyncpg.Pool, redis_client: redis.Redis) -> None:
        self._pool = pool
        self._redis = redis_client

    async def check(self) -> dict[str, bool]:
        ping = (
            _any_primary_answers(self._redis)
            if isinstance(self._redis, RedisCluster)
            else self._redis.ping()
        )
        postgres, redis_ok = await asyncio.gather(
            _answers(self._pool.fetchval("SELECT 1")), _answers(ping)
        )
        return {"postgres": postgres, "redis": redis_ok}


async def _any_primary_answers(cluster: RedisCluster) -> None:
    """A Redis Cluster is up while some primary answers: with one shard down, chatd still serves
    every room on the others, so it must not leave the load balancer's rotation for that."""
    primaries = cluster.get_primaries()
    pings = [cluster.ping(target_nodes=node) for node in primaries]
    answers = await asyncio.gather(*pings, return_exceptions=True)
    if all(isinstance(answer, BaseException) for answer in answers):
        raise ConnectionError("no primary of the Redis Cluster answers")


async def _answers(check: Awaitable) -> bool:
    try:
        await asyncio.wait_for(check, PROBE_TIMEOUT)
    except Exception:
        return False
    return True
