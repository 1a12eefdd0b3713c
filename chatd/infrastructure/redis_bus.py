"""The event bus across processes: Redis Pub/Sub, one channel per room and per user.

Publishing encodes each event once, as the client frame text behind a routing header (channels.py);
the publishes of concurrent callers share one pipeline. One subscriber task per process reads the
channels its connections need and hands each frame to the Fanout. Pub/Sub drops what is published
while the subscriber is away, so after every reconnect the Fanout is told to check its rooms
against the database.

A connection that stops answering without closing (a paused Redis, a lost route) is found by a
PING every `health_interval` seconds: no PONG within one more interval, and the bus reconnects.
"""

import asyncio
import contextlib
import logging

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from chatd.domain.events import BusEvent
from chatd.infrastructure.channels import BusSink, bus_payload, channels_of, route
from chatd.infrastructure.confirmations import Confirmations
from chatd.infrastructure.group_commit import GroupCommit
from chatd.infrastructure.pubsub_liveness import (
    HEALTH_INTERVAL,
    HealthCheck,
    cancel_until_done,
    keep_connected,
    serve_until_failure,
)

log = logging.getLogger(__name__)

# Always subscribed, so the subscriber connection is never idle-unsubscribed (later: broadcasts
# to every process).
CONTROL_CHANNEL = "chatd:control"


class RedisBus:
    def __init__(
        self, *, publisher: redis.Redis, url: str, health_interval: float = HEALTH_INTERVAL
    ) -> None:
        self._publisher = publisher
        # Concurrent publishes of this process go to Redis in one pipeline (group commit); while
        # one fails on an outage, those queued behind it fail with it instead of waiting again.
        self._publishes: GroupCommit[list[tuple[str, str]], None] = GroupCommit(
            self._publish_batch, outages=(RedisError, OSError)
        )
        # Its own client with retries off: a dropped connection must surface here, not be
        # silently re-established by redis-py (we would not know what was lost meanwhile).
        self._client = redis.Redis.from_url(url, retry=Retry(NoBackoff(), 0))
        self._sink: BusSink | None = None
        self._health = HealthCheck(health_interval)
        self._channels: set[str] = {CONTROL_CHANNEL}
        self._confirmations = Confirmations()
        self._commands: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._pubsub: redis.client.PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._connected_before = False
        self._check_when_subscribed = False
        self.reconnects = 0

    def attach(self, sink: BusSink) -> None:
        self._sink = sink

    async def publish(self, event: BusEvent) -> None:
        payload = bus_payload(event)
        with contextlib.suppress(RedisError, OSError):  # logged once per batch, below
            await self._publishes.submit([(channel, payload) for channel in channels_of(event)])

    async def _publish_batch(self, batch: list[list[tuple[str, str]]]) -> list[None]:
        pairs = [pair for messages in batch for pair in messages]
        try:
            if len(pairs) == 1:  # the usual case at light load: no pipeline to set up
                await self._publisher.publish(*pairs[0])
            else:
                async with self._publisher.pipeline(transaction=False) as pipe:
                    for channel, text in pairs:
                        pipe.publish(channel, text)
                    await pipe.execute()
        except (RedisError, OSError) as error:
            # The changes are committed; subscribers fill the gap from PostgreSQL on the next
            # event of the room or when their own connection comes back.
            log.warning("publish of %s events failed: %s", len(batch), error)
            raise
        return [None] * len(batch)

    def subscribe(self, channel: str) -> asyncio.Future[None]:
        """Ask for a channel; the future resolves once Redis has confirmed the subscription."""
        self._channels.add(channel)
        self._commands.put_nowait(("SUBSCRIBE", channel))
        return self._confirmations.expect(channel)

    def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        self._commands.put_nowait(("UNSUBSCRIBE", channel))

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    def start(self) -> None:
        """Start the subscriber task."""
        self._task = asyncio.create_task(self._run(), name="event-bus-subscriber")

    async def aclose(self) -> None:
        """Stop the subscriber task and close the subscriber connection."""
        self._stopping = True
        await cancel_until_done(self._task)
        await self._drop()
        await self._client.aclose()

    async def _run(self) -> None:
        await keep_connected(
            "event bus subscriber",
            stopping=lambda: self._stopping,
            connect=self._connect,
            serve=self._serve,
            drop=self._drop,
        )

    async def _connect(self) -> redis.client.PubSub:
        pubsub = self._client.pubsub()
        self._pubsub = pubsub
        # Commands queued before this point are covered by subscribing the whole wanted set.
        while not self._commands.empty():
            self._commands.get_nowait()
        channels = [*(self._channels - {CONTROL_CHANNEL}), CONTROL_CHANNEL]
        self._confirmations.resubscribing(channels, drop_others=True)
        # Redis confirms in order: once the control channel is confirmed, so is every room, and
        # a check of the rooms against the database cannot miss what is published after it.
        self._check_when_subscribed = self._connected_before
        self._connected_before = True
        await pubsub.subscribe(*channels)
        return pubsub

    async def _serve(self, pubsub: redis.client.PubSub) -> None:
        """Read and send commands on one connection until either fails; then stop both."""
        await serve_until_failure(
            self._read(pubsub), self._send_commands(pubsub), self._health.run(pubsub)
        )

    async def _send_commands(self, pubsub: redis.client.PubSub) -> None:
        # One task sends SUBSCRIBE/UNSUBSCRIBE in call order, so the last call wins.
        while True:
            command, channel = await self._commands.get()
            if command == "SUBSCRIBE":
                await pubsub.subscribe(channel)
            else:
                await pubsub.unsubscribe(channel)

    async def _read(self, pubsub: redis.client.PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            if message["type"] == "pong":
                self._health.pong()
                continue
            channel = message["channel"].decode()
            if message["type"] == "message":
                try:
                    route(self._sink, channel, message["data"].decode())
                except Exception:
                    log.exception("cannot route a frame from %s", channel)
            elif message["type"] == "subscribe":
                self._confirmations.confirmed(channel)
                if channel == CONTROL_CHANNEL and self._check_when_subscribed:
                    self._resubscribed()

    def _resubscribed(self) -> None:
        self._check_when_subscribed = False
        self.reconnects += 1
        log.info("event bus reconnected; checking every room")
        if self._sink is not None:
            self._sink.on_reconnected()

    async def _drop(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
