"""The event bus on a Redis Cluster (CHATD_REDIS_CLUSTER=1): sharded Pub/Sub.

Room and user channels are shard channels (SPUBLISH / SSUBSCRIBE): a channel lives on the shard
that owns its hash slot, so a room's traffic stays on one shard and more shards carry more
traffic. redis-py's cluster client knows which primary owns a channel (`get_node_from_key`, its
slot table); this bus keeps one subscriber connection per primary, each with its own reconnect
loop. Pub/Sub drops what is published while a connection is away, so when one shard's connection
comes back only the rooms on that shard are checked against PostgreSQL; the other shards' rooms
never notice. (redis-py's own ClusterPubSub reconnects behind our back, so we could not tell which
rooms to check: it is not used here.)

When a channel's slot moves (a failover, a resharding), Redis tells its subscribers with an
`sunsubscribe`; the bus then reloads the slot table and subscribes the channel on its new owner,
and checks the room.
"""

import asyncio
import contextlib
import logging

import redis.asyncio as redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from chatd.domain.events import BusEvent
from chatd.infrastructure.channels import (
    BusSink,
    bus_payload,
    channels_of,
    room_of_channel,
    route,
)
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

CONFIRM_WITHIN = 5.0  # seconds a moved channel's new shard has to confirm it
SOCKET_TIMEOUT = 2.0  # seconds to connect to a shard, and for a publish pipeline's answer


class RedisClusterBus:
    def __init__(self, cluster: RedisCluster, *, health_interval: float = HEALTH_INTERVAL) -> None:
        """`cluster` must be initialized (its slot table loaded) before start()."""
        self._cluster = cluster
        self.health_interval = health_interval  # each shard's subscriber PINGs this often
        self._sink: BusSink | None = None
        self._channels: set[str] = set()
        self._owners: dict[str, ShardSubscriber] = {}  # channel -> the shard it is subscribed on
        self._shards: dict[str, ShardSubscriber] = {}  # node name -> its subscriber
        self._confirmations = Confirmations()
        self._reroute_task: asyncio.Task[None] | None = None
        self._dropped: set[str] = set()  # channels shards dropped, to subscribe again
        self._stopping = False
        self.reconnects = 0

    def attach(self, sink: BusSink) -> None:
        self._sink = sink

    # Publishing.

    async def publish(self, event: BusEvent) -> None:
        payload = bus_payload(event)
        await self.publish_raw([(channel, payload) for channel in channels_of(event)])

    async def publish_raw(self, pairs: list[tuple[str, str]]) -> None:
        """Publish (channel, payload) pairs, each on its channel's shard (presence frames too).

        Each shard has its own publisher: a shard that is down fails only its own publishes,
        and never holds up the others'. The changes are committed; the shard's subscribers
        catch up from PostgreSQL when it is back."""
        by_shard: dict[ShardSubscriber, list[tuple[str, str]]] = {}
        for channel, payload in pairs:
            try:
                shard = self._shard_for(channel)
            except RedisError as error:  # a slot no primary serves now: as good as lost
                log.warning("no shard to publish on %s: %s", channel, error)
                self.reroute()
                continue
            by_shard.setdefault(shard, []).append((channel, payload))
        await asyncio.gather(*(shard.publish(some) for shard, some in by_shard.items()))

    # Subscriptions.

    def subscribe(self, channel: str) -> asyncio.Future[None]:
        """Ask for a channel; the future resolves once its shard has confirmed it."""
        self._channels.add(channel)
        shard = self._owners.get(channel) or self._shard_for(channel)
        self._owners[channel] = shard
        shard.command("SSUBSCRIBE", channel)
        return self._confirmations.expect(channel)

    def unsubscribe(self, channel: str) -> None:
        self._channels.discard(channel)
        shard = self._owners.pop(channel, None)
        if shard is not None:
            shard.command("SUNSUBSCRIBE", channel)

    @property
    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    def start(self) -> None:
        for node in self._cluster.get_primaries():
            self._shard(node)

    async def aclose(self) -> None:
        self._stopping = True
        tasks = [self._reroute_task] if self._reroute_task else []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.gather(*(shard.aclose() for shard in self._shards.values()))

    # What the shard subscribers report.

    def channels_of_shard(self, shard: "ShardSubscriber") -> list[str]:
        return [channel for channel, owner in self._owners.items() if owner is shard]

    def received(self, channel: str, payload: str) -> None:
        try:
            route(self._sink, channel, payload)
        except Exception:
            log.exception("cannot route a frame from %s", channel)

    def confirmed(self, channel: str) -> None:
        self._confirmations.confirmed(channel)

    def resubscribing(self, channels: list[str]) -> None:
        """A shard subscribes these channels again on a new connection."""
        self._confirmations.resubscribing(channels)

    def shard_resubscribed(self, shard: "ShardSubscriber", channels: list[str]) -> None:
        """A shard's connection came back and every channel it had is subscribed again."""
        self.reconnects += 1
        rooms = {room for room in map(room_of_channel, channels) if room is not None}
        log.info("event bus shard %s reconnected; checking its %s rooms", shard.name, len(rooms))
        if self._sink is not None:
            self._sink.on_reconnected(rooms)
        self.reroute()  # the slot table may have changed while it was away

    def reroute(self, dropped: str | None = None) -> None:
        """Reload the slot table and move channels whose slot changed owner; `dropped`: a
        channel a shard dropped on its own (its slot was reassigned, maybe to that same shard),
        subscribed again wherever it lives now. One reroute at a time; it loops while more come."""
        if dropped is not None:
            self._dropped.add(dropped)
        if self._stopping or (self._reroute_task is not None and not self._reroute_task.done()):
            return
        self._reroute_task = asyncio.create_task(self._reroute(), name="event-bus-reroute")

    async def _reroute(self) -> None:
        while True:
            dropped, self._dropped = self._dropped, set()
            await self._reroute_once(dropped)
            if not self._dropped:
                return

    async def _reroute_once(self, dropped: set[str]) -> None:
        try:
            await self._cluster.nodes_manager.initialize()
        except (RedisError, OSError) as error:
            log.warning("cannot reload the cluster's slot table: %s", error)
            return
        moved: dict[str, asyncio.Future[None]] = {}
        for channel in list(self._channels):
            try:
                owner, shard = self._owners.get(channel), self._shard_for(channel)
            except RedisError as error:  # its slot has no primary now: try again later
                log.warning("no shard for %s: %s", channel, error)
                continue
            if owner is shard and channel not in dropped:
                continue
            # No SUNSUBSCRIBE to the old owner: a primary that loses a slot drops its channels
            # itself (and would answer MOVED), and a dead one has nothing to drop.
            self._owners[channel] = shard
            shard.command("SSUBSCRIBE", channel)
            moved[channel] = self._confirmations.expect(channel)
        if moved:
            log.info("event bus: %s channels moved to other shards", len(moved))
            # Check the rooms once their new subscriptions hold: nothing published after the
            # check can be missed then.
            await asyncio.wait(moved.values(), timeout=CONFIRM_WITHIN)
            rooms = {room for room in map(room_of_channel, moved) if room is not None}
            if self._sink is not None and rooms:
                self._sink.on_reconnected(rooms)

    def _shard_for(self, channel: str) -> "ShardSubscriber":
        return self._shard(self._cluster.get_node_from_key(channel))

    def _shard(self, node: ClusterNode) -> "ShardSubscriber":
        shard = self._shards.get(node.name)
        if shard is None:
            shard = self._shards[node.name] = ShardSubscriber(self, node.host, node.port)
            if not self._stopping:
                shard.start()
        return shard


class ShardSubscriber:
    """One primary's subscriber connection: SSUBSCRIBE the bus's channels that live there, read
    them, and on any failure reconnect with backoff and subscribe them all again."""

    def __init__(self, bus: RedisClusterBus, host: str, port: int) -> None:
        self.name = f"{host}:{port}"
        self._bus = bus
        # Retries off: a dropped connection must surface here (we would not know what was lost).
        # Bounded connects and publishes: a shard that is unreachable (not just refusing) must
        # not hold its rooms' sends for minutes. The subscriber's reads wait as long as needed:
        # a shard gone silent is found by its health check (pubsub_liveness.py).
        no_retry = Retry(NoBackoff(), 0)
        self._client = redis.Redis(
            host=host, port=port, retry=no_retry, socket_connect_timeout=SOCKET_TIMEOUT
        )
        # Publishing has a client of its own; concurrent publishes share one pipeline.
        self._publisher = redis.Redis(
            host=host,
            port=port,
            retry=no_retry,
            socket_connect_timeout=SOCKET_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
        )
        # While a publish fails on an outage, those queued behind it fail with it at once.
        self._publishes: GroupCommit[list[tuple[str, str]], None] = GroupCommit(
            self._publish_batch, outages=(RedisError, OSError)
        )
        self._commands: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        # A shard that goes silent without closing is found by its PINGs going unanswered.
        self._health = HealthCheck(bus.health_interval)
        self._pubsub: redis.client.PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._connected_before = False
        self._check_after: str | None = None  # the last channel of a resubscription
        self._resubscribed: list[str] = []  # the channels of that resubscription

    async def publish(self, pairs: list[tuple[str, str]]) -> None:
        with contextlib.suppress(RedisError, OSError):  # logged once per batch, below
            await self._publishes.submit(pairs)

    async def _publish_batch(self, batch: list[list[tuple[str, str]]]) -> list[None]:
        try:
            async with self._publisher.pipeline(transaction=False) as pipe:
                for pairs in batch:
                    for channel, text in pairs:
                        pipe.spublish(channel, text)
                replies = await pipe.execute(raise_on_error=False)
        except (RedisError, OSError) as error:
            log.warning("shard %s: publish of %s events failed: %s", self.name, len(batch), error)
            raise
        else:
            if errors := [reply for reply in replies if isinstance(reply, Exception)]:
                # MOVED: the slot has another owner now; reload the slot table.
                log.warning("shard %s: %s publishes refused: %s", self.name, len(errors), errors[0])
                self._bus.reroute()
        return [None] * len(batch)

    def command(self, command: str, channel: str) -> None:
        self._commands.put_nowait((command, channel))

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"event-bus-shard-{self.name}")

    async def aclose(self) -> None:
        self._stopping = True
        await cancel_until_done(self._task)
        await self._drop()
        await self._client.aclose()
        await self._publisher.aclose()

    async def _run(self) -> None:
        await keep_connected(
            f"event bus shard {self.name}",
            stopping=lambda: self._stopping,
            connect=self._connect,
            serve=self._serve,
            drop=self._drop,
        )

    async def _connect(self) -> redis.client.PubSub:
        pubsub = self._client.pubsub()
        self._pubsub = pubsub
        await pubsub.connect()
        # Commands queued before this point are covered by subscribing the whole wanted set.
        while not self._commands.empty():
            self._commands.get_nowait()
        channels = self._bus.channels_of_shard(self)
        self._bus.resubscribing(channels)
        reconnect, self._connected_before = self._connected_before, True
        # Redis confirms in order: once the last one is confirmed, so is every channel, and a
        # check of their rooms cannot miss what is published after it. One channel per command:
        # a primary owns many slots, and SSUBSCRIBE takes channels of one slot only.
        self._check_after = channels[-1] if reconnect and channels else None
        self._resubscribed = channels
        for channel in channels:
            await pubsub.ssubscribe(channel)
        return pubsub

    async def _serve(self, pubsub: redis.client.PubSub) -> None:
        await serve_until_failure(
            self._read(pubsub), self._send_commands(pubsub), self._health.run(pubsub)
        )

    async def _send_commands(self, pubsub: redis.client.PubSub) -> None:
        while True:
            command, channel = await self._commands.get()
            if command == "SSUBSCRIBE":
                await pubsub.ssubscribe(channel)
            else:
                await pubsub.sunsubscribe(channel)

    async def _read(self, pubsub: redis.client.PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is None:
                continue
            kind = message["type"]
            if kind == "pong":
                self._health.pong()
                continue
            if kind == "smessage":
                self._bus.received(message["channel"].decode(), message["data"].decode())
                continue
            channel = message["channel"].decode() if message["channel"] else ""
            if kind == "ssubscribe":
                self._bus.confirmed(channel)
                if channel == self._check_after:
                    self._check_after = None
                    self._bus.shard_resubscribed(self, self._resubscribed)
            elif kind == "sunsubscribe" and channel in self._bus.channels_of_shard(self):
                # Not asked for: the slot was reassigned (to another primary, or to this one).
                self._bus.reroute(dropped=channel)

    async def _drop(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
