"""The failure limiter against real Redis: shared counts, fixed windows."""

import asyncio

import pytest
import redis.asyncio as redis

from chatd.infrastructure.rate_limits import RedisFailureLimiter, RedisRateLimiter


async def test_blocks_at_the_limit_and_reports_the_window(redis_client):
    limiter = RedisFailureLimiter(redis_client, limit=2, window_seconds=900)
    assert await limiter.retry_after(["a", "b"]) == 0
    await limiter.record_failure(["a", "b"])
    assert await limiter.retry_after(["a"]) == 0
    await limiter.record_failure(["a"])
    assert 890 <= await limiter.retry_after(["a"]) <= 900
    assert 890 <= await limiter.retry_after(["b", "a"]) <= 900
    assert await limiter.retry_after(["b"]) == 0


async def test_two_limiters_share_the_count(redis_client, redis_url):
    other_client = redis.Redis.from_url(redis_url)
    try:
        one = RedisFailureLimiter(redis_client, limit=4, window_seconds=60)
        two = RedisFailureLimiter(other_client, limit=4, window_seconds=60)
        await asyncio.gather(*(limiter.record_failure(["k"]) for limiter in [one, two, one, two]))
        assert await one.retry_after(["k"]) > 0 and await two.retry_after(["k"]) > 0
    finally:
        await other_client.aclose()


@pytest.mark.slow
async def test_the_window_expires(redis_client):
    limiter = RedisFailureLimiter(redis_client, limit=1, window_seconds=1)
    await limiter.record_failure(["k"])
    assert await limiter.retry_after(["k"]) == 1
    await asyncio.sleep(1.2)
    assert await limiter.retry_after(["k"]) == 0


async def test_limit_zero_turns_it_off(redis_client):
    limiter = RedisFailureLimiter(redis_client, limit=0, window_seconds=60)
    for _ in range(5):
        await limiter.record_failure(["k"])
    assert await limiter.retry_after(["k"]) == 0
    assert await redis_client.exists("chatd:failures:k") == 0


async def test_rate_limiter_allows_the_limit_then_counts_down_the_window(redis_client, redis_url):
    other_client = redis.Redis.from_url(redis_url)
    try:
        one = RedisRateLimiter(redis_client, limit=3, window_seconds=10)
        two = RedisRateLimiter(other_client, limit=3, window_seconds=10)
        assert [await one.acquire("u1"), await two.acquire("u1"), await one.acquire("u1")] == [
            0
        ] * 3
        assert 1 <= await two.acquire("u1") <= 10  # the fourth, from either process
        assert await one.acquire("u2") == 0  # another key has its own count
    finally:
        await other_client.aclose()


@pytest.mark.slow
async def test_rate_limiter_window_ends_and_zero_is_off(redis_client):
    limiter = RedisRateLimiter(redis_client, limit=1, window_seconds=1)
    assert await limiter.acquire("k") == 0
    assert await limiter.acquire("k") == 1
    await asyncio.sleep(1.2)
    assert await limiter.acquire("k") == 0
    unlimited = RedisRateLimiter(redis_client, limit=0, window_seconds=1)
    assert [await unlimited.acquire("k") for _ in range(5)] == [0] * 5
