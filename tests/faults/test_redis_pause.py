"""Redis paused (SIGSTOP for 15 s, then SIGCONT) under two chatd processes with live posts and
readers: /readyz turns 503 within a few seconds and back to 200 after; REST that needs no Redis
keeps answering meanwhile; a post, which needs Redis (its rate limit), gets 503 with Retry-After
within two Redis command timeouts instead of waiting for Redis; every message posted before,
during and after reaches every reader."""

import asyncio
import time
from datetime import UTC, datetime

import aiohttp
import pytest
import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from chatd.app import REDIS_TIMEOUT
from chatd.domain.events import UserTyping
from chatd.domain.model import User
from chatd.infrastructure.redis_bus import RedisBus
from tests.faults.load import Posts, Receiver, chatd_processes, totals, wait_until
from tests.support import Api

pytestmark = pytest.mark.slow

PAUSE_SECONDS = 15.0
READERS = 4
POSTERS = 3
PROBE = aiohttp.ClientTimeout(total=5)


async def test_redis_paused_turns_readyz_503_and_loses_nothing(settings, private_redis, figure):
    settings = settings.with_overrides(redis_url=private_redis.url)
    # A message limit far above this load, so that every post asks Redis to count it.
    limit = {"CHATD_MESSAGE_RATE": "100000"}
    async with (
        chatd_processes(settings, 2, **limit) as servers,
        aiohttp.ClientSession() as session,
    ):
        apis = [Api(session, base_url=server.url) for server in servers]
        owner = await apis[0].user_token("owner")
        room_id = await apis[0].create_room(owner)
        receivers = []
        for n in range(READERS):
            token = await apis[0].user_token(f"reader{n}")
            await apis[1].join(token, room_id)
            url = servers[n % 2].url
            receivers.append(Receiver(session, url, token, room_id, after=0))
        reading = [asyncio.create_task(r.run()) for r in receivers]
        stop, posts = asyncio.Event(), Posts()
        posted = posts.stored
        no_redis: list[tuple[int, float]] = []  # (status, seconds) of REST that needs no Redis
        try:
            await wait_until(lambda: all(r.ready.is_set() for r in receivers), within=60)
            posting = [
                asyncio.create_task(posts.until(apis[n % 2], owner, room_id, n, stop))
                for n in range(POSTERS)
            ]
            await wait_until(lambda: len(posted) >= 20, within=60)
            paused = time.monotonic()
            private_redis.pause()
            probing = asyncio.create_task(read_without_redis(apis, owner, room_id, no_redis))
            detection = await readiness_changes(session, servers, to=503, within=10)
            await asyncio.sleep(max(0.0, paused + PAUSE_SECONDS - time.monotonic()))
            during = len(posted)
            probing.cancel()
            private_redis.resume()
            recovery = await readiness_changes(session, servers, to=200, within=30)
            await wait_until(lambda: len(posted) >= during + 20, within=60)
            stop.set()
            await asyncio.gather(*posting)
            last = max(posted)
            await wait_until(lambda: all(r.last >= last for r in receivers), within=60)
        finally:
            stop.set()
            for task in reading:
                task.cancel()
            await asyncio.gather(*reading, return_exceptions=True)

    found = totals([r.tally for r in receivers], 1, {room_id: last}, [room_id] * READERS)
    slowest = max(seconds for _, seconds in no_redis)
    figure(
        f"readyz 503 after {detection:.1f} s, 200 again {recovery:.1f} s after SIGCONT, "
        f"REST without Redis {len(no_redis)} answers during the pause, slowest {slowest:.2f} s, "
        f"lost {found['lost']} of {len(posted)}, duplicates {found['duplicates']}, "
        f"out of order {found['out_of_order']}, posts answered 503 {posts.statuses[503]} "
        f"(without Retry-After {posts.no_retry_after}), other 5xx {posts.other_5xx()}, "
        f"hangs {posts.statuses['hang']}, slowest post {posts.slowest:.1f} s"
    )
    assert detection <= 5.0
    assert {status for status, _ in no_redis} == {200} and slowest < 3.0
    assert set(posts.statuses) <= {200, 201, 503}, posts.statuses  # no other 5xx, no hang
    assert posts.statuses[503] > 0 and posts.no_retry_after == 0, posts.statuses
    # A post that needs Redis waits at most two command timeouts (a try and one retry).
    assert posts.slowest <= 2 * REDIS_TIMEOUT + 2, posts.slowest
    assert found == {"lost": 0, "duplicates": 0, "out_of_order": 0}


async def readiness_changes(session, servers, *, to: int, within: float) -> float:
    """Poll /readyz of every process at once until each answers `to`; the seconds it took the
    slowest."""
    start = time.monotonic()

    async def one(url: str) -> float:
        while True:
            try:
                async with session.get(f"{url}/readyz", timeout=PROBE) as response:
                    if response.status == to:
                        return time.monotonic() - start
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)

    async with asyncio.timeout(within):
        return max(await asyncio.gather(*(one(server.url) for server in servers)))


async def read_without_redis(apis: list[Api], token: str, room_id: int, out: list) -> None:
    """GET /api/me and a room's history, alternately on each process, until cancelled."""
    paths = ["/api/me", f"/api/rooms/{room_id}/messages?limit=5"]
    for n in range(10**6):
        start = time.monotonic()
        try:
            status, _ = await apis[n % 2].call("GET", paths[n % 2], token=token, timeout=PROBE)
        except TimeoutError:
            status = 0
        out.append((status, time.monotonic() - start))
        await asyncio.sleep(0.2)


async def test_publishes_queued_behind_a_stalled_one_fail_with_it(private_redis, figure):
    """Redis paused: the first publish waits out its try and one retry; the publishes queued
    behind it meanwhile give up with it, instead of each waiting out a try and retry of its own
    (a post, stored already, would otherwise be held for every batch ahead of it)."""
    timeout = 1.0
    publisher = redis.Redis.from_url(
        private_redis.url, socket_timeout=timeout, retry=Retry(NoBackoff(), 1)
    )
    bus = RedisBus(publisher=publisher, url=private_redis.url)
    event = UserTyping(room_id=1, user=User(id=1, username="ann", created_at=datetime.now(UTC)))
    try:
        await bus.publish(event)  # a pooled connection, so the pause stalls reads, not connects
        private_redis.pause()
        start = time.monotonic()
        first = asyncio.create_task(bus.publish(event))
        await asyncio.sleep(0.2)
        queued = [asyncio.create_task(bus.publish(event)) for _ in range(20)]
        await asyncio.wait_for(asyncio.gather(first, *queued), timeout=30)
        seconds = time.monotonic() - start
    finally:
        private_redis.resume()
        await bus.aclose()
        await publisher.aclose()
    figure(f"21 publishes with Redis paused returned after {seconds:.1f} s (timeout {timeout} s)")
    # One try and one retry: about 2 timeouts. Waiting behind the first batch would be 4.
    assert seconds < 3 * timeout, seconds
