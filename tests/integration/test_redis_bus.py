"""RedisBus against the real Redis: frames between two buses (two processes), subscriptions
that follow interest, and recovery when the subscriber connection is killed."""

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
import redis.asyncio as redis

from chatd.domain.events import MemberJoined, MessagePosted, UserTyping
from chatd.infrastructure.channels import Envelope, room_channel, user_channel
from chatd.infrastructure.redis_bus import RedisBus
from tests.fake_rooms import message
from tests.fakes import ALICE
from tests.faults.proxy import TcpProxy


class Sink:
    def __init__(self) -> None:
        self.frames: asyncio.Queue[tuple[str, Envelope]] = asyncio.Queue()
        self.reconnected = asyncio.Event()

    def on_room_frame(self, envelope: Envelope) -> None:
        self.frames.put_nowait(("room", envelope))

    def on_user_frame(self, user_id: int, envelope: Envelope) -> None:
        self.frames.put_nowait((f"user:{user_id}", envelope))

    def on_reconnected(self) -> None:
        self.reconnected.set()

    async def next(self, within: float = 5.0) -> tuple[str, Envelope]:
        return await asyncio.wait_for(self.frames.get(), within)


@pytest.fixture
async def buses(redis_url, redis_client) -> AsyncIterator[tuple[RedisBus, RedisBus, Sink]]:
    """A publishing bus and a subscribing one with a recording sink."""
    publisher = RedisBus(publisher=redis_client, url=redis_url)
    subscriber = RedisBus(publisher=redis_client, url=redis_url)
    sink = Sink()
    subscriber.attach(sink)
    subscriber.start()
    yield publisher, subscriber, sink
    await subscriber.aclose()
    await publisher.aclose()


async def test_frames_travel_between_processes(buses):
    publisher, subscriber, sink = buses
    await asyncio.wait_for(subscriber.subscribe(room_channel(3)), 5)
    await asyncio.wait_for(subscriber.subscribe(user_channel(ALICE.id)), 5)
    await publisher.publish(MessagePosted(message(3, 1)))
    where, envelope = await sink.next()
    assert (where, envelope.type, envelope.room_id, envelope.seq) == ("room", "new_message", 3, 1)
    await publisher.publish(MemberJoined(room_id=3, user=ALICE))
    received = {(await sink.next())[0], (await sink.next())[0]}
    assert received == {"room", f"user:{ALICE.id}"}
    await publisher.publish(UserTyping(room_id=4, user=ALICE))  # not subscribed
    await publisher.publish(UserTyping(room_id=3, user=ALICE))
    assert (await sink.next())[1].type == "typing" and sink.frames.empty()


async def test_an_unsubscribed_channel_stops_and_the_last_call_wins(buses, redis_client):
    publisher, subscriber, sink = buses
    await asyncio.wait_for(subscriber.subscribe(room_channel(3)), 5)
    subscriber.unsubscribe(room_channel(3))
    again = subscriber.subscribe(room_channel(3))
    subscriber.unsubscribe(room_channel(3))
    await asyncio.wait_for(subscriber.subscribe(room_channel(8)), 5)  # commands go in order
    assert not again.cancelled()
    assert await redis_client.pubsub_numsub(room_channel(3)) == [(b"chatd:room:3", 0)]
    await publisher.publish(MessagePosted(message(3, 1)))
    await publisher.publish(MessagePosted(message(8, 1)))
    assert (await sink.next())[1].room_id == 8


async def test_a_channel_asked_for_again_is_confirmed_once_it_holds_again(buses):
    """SUBSCRIBE, UNSUBSCRIBE, SUBSCRIBE back to back (a room's feed dropped and made again),
    and a SUBSCRIBE of a channel already held: each future is answered by its own confirmation
    (the bus counts on real Redis confirming every SUBSCRIBE once, in order; the order itself
    is tested in tests/unit/test_confirmations.py), and a frame published as soon as the last
    one resolves is received."""
    publisher, subscriber, sink = buses
    rooms = range(100, 160)
    for room in rooms:
        first = subscriber.subscribe(room_channel(room))
        subscriber.unsubscribe(room_channel(room))
        again = subscriber.subscribe(room_channel(room))
        held = subscriber.subscribe(room_channel(room))
        await asyncio.wait_for(held, 5)
        assert first.done() and again.done()
        await publisher.publish(MessagePosted(message(room, 1)))
    received = [(await sink.next())[1].room_id for _ in rooms]
    assert received == list(rooms)


async def test_a_killed_subscriber_reconnects_resubscribes_and_says_so(buses, redis_client):
    publisher, subscriber, sink = buses
    await asyncio.wait_for(subscriber.subscribe(room_channel(3)), 5)
    assert await redis_client.client_kill_filter(_type="pubsub") >= 1
    await asyncio.wait_for(sink.reconnected.wait(), 5)
    assert subscriber.reconnects == 1
    # Told only once every channel is subscribed again, so a check then misses nothing.
    assert await redis_client.pubsub_numsub(room_channel(3)) == [(b"chatd:room:3", 1)]
    await publisher.publish(MessagePosted(message(3, 2)))
    assert (await sink.next())[1].seq == 2

    sink.reconnected.clear()
    assert await redis_client.client_kill_filter(_type="pubsub") >= 1
    await asyncio.wait_for(sink.reconnected.wait(), 5)
    # Subscribing after two reconnects goes through the current connection.
    await asyncio.wait_for(subscriber.subscribe(room_channel(4)), 5)
    await publisher.publish(MessagePosted(message(4, 1)))
    assert (await sink.next())[1].room_id == 4


async def test_publishing_with_redis_gone_does_not_fail_the_caller(redis_url):
    gone = redis.Redis.from_url("redis://127.0.0.1:1", socket_connect_timeout=0.2)
    bus = RedisBus(publisher=gone, url=redis_url)
    await bus.publish(MessagePosted(message(3, 1)))  # logged; the post itself is committed
    await bus.aclose()
    await gone.aclose()


@pytest.mark.slow
async def test_a_silent_connection_is_found_by_the_health_check(redis_url, redis_client, caplog):
    """Redis stops answering without closing (a blackhole): no PONG, so the bus reconnects,
    and says so, once Redis can be reached again."""
    proxy = await TcpProxy(**upstream_of(redis_url)).start()
    bus = RedisBus(
        publisher=redis_client, url=f"redis://127.0.0.1:{proxy.port}/0", health_interval=0.2
    )
    sink = Sink()
    bus.attach(sink)
    bus.start()
    try:
        await asyncio.wait_for(bus.subscribe(room_channel(3)), 5)
        proxy.blackhole()
        async with asyncio.timeout(10):
            while "no PONG" not in caplog.text:  # noqa: ASYNC110 (log records, polled)
                await asyncio.sleep(0.05)
        proxy.heal()
        await asyncio.wait_for(sink.reconnected.wait(), 20)
        await RedisBus(publisher=redis_client, url=redis_url).publish(MessagePosted(message(3, 1)))
        assert (await sink.next())[1].seq == 1
    finally:
        await bus.aclose()
        await proxy.aclose()


def upstream_of(url: str) -> dict:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return {"unix": parts.path}
    return {"upstream_host": parts.hostname, "upstream_port": parts.port or 6379}
