"""Presence and the typing gate against real Redis: claims of several processes, announcements
published by the scripts themselves, expiry of a process that stops renewing and its sweep,
and one typing notice per interval whichever process asks."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import redis.asyncio as redis

from chatd.domain.events import UserTyping
from chatd.infrastructure.channels import read_payload, room_channel
from chatd.infrastructure.presence import PROCESSES, RedisPresence
from chatd.infrastructure.typing_gate import RedisTypingGate
from tests.fakes import ALICE, BOB

SHORT_TTL = 0.3  # seconds: a process that stops renewing expires this fast


class Announcements:
    """What is published on some room channels, as (type, room, user, online)."""

    def __init__(self, pubsub: redis.client.PubSub) -> None:
        self._pubsub = pubsub

    async def next(self, within: float = 5.0) -> tuple:
        async with asyncio.timeout(within):
            while True:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                if message is not None:
                    envelope = read_payload(message["data"].decode())
                    online = '"online":true' in envelope.text
                    return envelope.type, envelope.room_id, envelope.user_id, online

    async def none(self) -> bool:
        return await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2) is None


@pytest.fixture
async def announced(redis_client) -> AsyncIterator[Announcements]:
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(room_channel(5), room_channel(6))
    while await pubsub.get_message(timeout=0.2) is not None:  # the subscribe confirmations
        pass
    yield Announcements(pubsub)
    await pubsub.aclose()


async def process(client: redis.Redis, name: str, ttl: float = 20.0) -> RedisPresence:
    store = RedisPresence(client, ttl=ttl, name=name)
    await store.renew()
    return store


async def test_the_first_claim_and_the_last_release_are_announced(redis_client, announced):
    a, b = await process(redis_client, "a"), await process(redis_client, "b")
    assert await a.claim(ALICE, [5, 6])
    assert [await announced.next(), await announced.next()] == [
        ("presence", 5, ALICE.id, True),
        ("presence", 6, ALICE.id, True),
    ]
    assert not await b.claim(ALICE, [5, 6])
    assert not await a.release(ALICE, [5, 6])
    assert await announced.none()
    assert await a.online([ALICE.id, BOB.id]) == {ALICE.id}
    assert await b.release(ALICE, [5])
    assert await announced.next() == ("presence", 5, ALICE.id, False)
    assert await b.online([ALICE.id]) == set()


async def test_a_process_that_stops_renewing_expires_and_is_swept_once(redis_client, announced):
    dead, b, c = (
        await process(redis_client, "dead", SHORT_TTL),
        await process(redis_client, "b"),
        await process(redis_client, "c"),
    )
    await dead.claim(ALICE, [5])
    await dead.claim(BOB, [5])
    await b.claim(BOB, [5])
    await announced.next(), await announced.next()
    await asyncio.sleep(SHORT_TTL + 0.1)
    assert await b.online([ALICE.id, BOB.id]) == {BOB.id}, "offline at once, before the sweep"
    assert (await b.renew()).expired == ["dead"]
    assert (await c.renew()).expired == [], "b sweeps it; nobody else"
    assert await b.orphans("dead") == [ALICE.id, BOB.id]
    assert await b.release(ALICE, [5], process="dead")
    assert not await b.release(BOB, [5], process="dead")  # still held by b
    assert await announced.next() == ("presence", 5, ALICE.id, False)
    await b.forget("dead")
    assert await redis_client.zscore(PROCESSES, "dead") is None
    assert (await c.renew()).expired == []


async def test_a_process_back_in_time_keeps_its_claims(redis_client, announced):
    slow, b = await process(redis_client, "slow", SHORT_TTL), await process(redis_client, "b")
    await slow.claim(ALICE, [5])
    await announced.next()
    await asyncio.sleep(SHORT_TTL + 0.1)
    assert (await b.renew()).expired == ["slow"]
    assert (await slow.renew()).lost, "it learns its claims may be gone"
    assert not await b.release(ALICE, [5], process="slow"), "the sweep leaves it alone"
    await b.forget("slow")
    assert await redis_client.zscore(PROCESSES, "slow") is not None
    assert not await slow.claim(ALICE, [5]), "claimed again: online all along"
    assert await announced.none()
    assert await b.online([ALICE.id]) == {ALICE.id}


async def test_one_typing_notice_per_interval_from_any_process(redis_client, redis_url, announced):
    other = redis.Redis.from_url(redis_url)
    try:
        on_a, on_b = RedisTypingGate(redis_client), RedisTypingGate(other)
        interval, typing = timedelta(milliseconds=300), UserTyping(room_id=5, user=ALICE)
        assert await on_a.forward(typing, interval=interval) == timedelta(0)
        assert await announced.next() == ("typing", 5, ALICE.id, False)
        wait = await on_b.forward(typing, interval=interval)
        assert timedelta(0) < wait <= interval
        assert await on_a.forward(UserTyping(room_id=5, user=BOB), interval=interval) == timedelta(
            0
        )
        assert (await announced.next())[2] == BOB.id
        await asyncio.sleep(wait.total_seconds() + 0.05)
        assert await on_b.forward(typing, interval=interval) == timedelta(0)
        assert await announced.next() == ("typing", 5, ALICE.id, False)
    finally:
        await other.aclose()
