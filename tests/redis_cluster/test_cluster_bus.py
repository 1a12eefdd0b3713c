"""RedisClusterBus against a real 3-master cluster: frames on shard channels of every shard, and
when one master is SIGKILLed and restarted, only the rooms whose channels live on it are checked
against the database (the sink's on_reconnected gets exactly those rooms)."""

import asyncio
import signal
from collections.abc import Collection

import pytest
from redis.asyncio.cluster import RedisCluster

from chatd.bench.redis_nodes import RedisClusterNodes
from chatd.domain.events import MessagePosted
from chatd.infrastructure.channels import Envelope, room_channel
from chatd.infrastructure.redis_cluster_bus import RedisClusterBus
from tests.fake_rooms import message

pytestmark = pytest.mark.slow


class Sink:
    def __init__(self) -> None:
        self.frames: asyncio.Queue[Envelope] = asyncio.Queue()
        self.checks: asyncio.Queue[frozenset[int] | None] = asyncio.Queue()

    def on_room_frame(self, envelope: Envelope) -> None:
        self.frames.put_nowait(envelope)

    def on_user_frame(self, user_id: int, envelope: Envelope) -> None:
        pass

    def on_reconnected(self, room_ids: Collection[int] | None = None) -> None:
        self.checks.put_nowait(None if room_ids is None else frozenset(room_ids))

    async def rooms_of_next_frames(self, count: int, within: float = 10.0) -> set[int]:
        return {(await asyncio.wait_for(self.frames.get(), within)).room_id for _ in range(count)}


def shards_of(client: RedisCluster, rooms: range) -> dict[int, set[int]]:
    """Primary port -> the rooms (of `rooms`) whose channels it owns."""
    shards: dict[int, set[int]] = {}
    for room_id in rooms:
        shards.setdefault(client.get_node_from_key(room_channel(room_id)).port, set()).add(room_id)
    return shards


async def test_only_the_restarted_shards_rooms_are_checked(
    cluster_client: RedisCluster, redis_cluster_nodes: RedisClusterNodes
):
    rooms = range(1, 13)
    shards = shards_of(cluster_client, rooms)
    assert len(shards) == 3, shards
    subscriber, publisher, sink = (
        RedisClusterBus(cluster_client),
        RedisClusterBus(cluster_client),
        Sink(),
    )
    subscriber.attach(sink)
    subscriber.start()
    publisher.start()
    try:
        await asyncio.wait_for(
            asyncio.gather(*(subscriber.subscribe(room_channel(r)) for r in rooms)), 10
        )
        for room_id in rooms:
            await publisher.publish(MessagePosted(message(room_id, 1)))
        assert await sink.rooms_of_next_frames(len(rooms)) == set(rooms)

        killed = sorted(shards)[1]
        redis_cluster_nodes.kill(killed)
        for room_id in rooms:  # the live shards go on delivering; the killed one's are lost
            await publisher.publish(MessagePosted(message(room_id, 2)))
        live = set(rooms) - shards[killed]
        assert await sink.rooms_of_next_frames(len(live)) == live
        assert sink.checks.empty()

        await asyncio.to_thread(redis_cluster_nodes.restart, killed)
        await asyncio.to_thread(redis_cluster_nodes.wait_ok)
        checked = await asyncio.wait_for(sink.checks.get(), 15)
        assert checked == frozenset(shards[killed])
        for room_id in sorted(shards[killed]):  # subscribed again on the restarted master
            await publisher.publish(MessagePosted(message(room_id, 3)))
        assert await sink.rooms_of_next_frames(len(shards[killed])) == shards[killed]
        await asyncio.sleep(0.5)
        assert sink.checks.empty() and sink.frames.empty()
        print(f"\nshard {killed} restarted: rooms {sorted(checked)} checked, no other room")
    finally:
        await subscriber.aclose()
        await publisher.aclose()


async def test_a_channel_whose_slot_moves_follows_it_to_the_new_primary(
    cluster_client: RedisCluster, redis_cluster_nodes: RedisClusterNodes
):
    channel, room_id = room_channel(5), 5
    subscriber, publisher, sink = (
        RedisClusterBus(cluster_client),
        RedisClusterBus(cluster_client),
        Sink(),
    )
    subscriber.attach(sink)
    subscriber.start()
    publisher.start()
    source = cluster_client.get_node_from_key(channel).port
    target = next(port for port in redis_cluster_nodes.ports if port != source)
    slot = cluster_client.keyslot(channel)
    try:
        await asyncio.wait_for(subscriber.subscribe(channel), 10)
        # Move the (empty) slot: the source drops its subscribers with an sunsubscribe.
        await asyncio.to_thread(redis_cluster_nodes.move_slot, slot, source, target)
        checked = await asyncio.wait_for(sink.checks.get(), 15)
        assert checked == frozenset({room_id})
        await publisher.publish(MessagePosted(message(room_id, 1)))
        assert await sink.rooms_of_next_frames(1) == {room_id}
        assert subscriber._owners[channel].name.endswith(f":{target}")
    finally:
        await subscriber.aclose()
        await publisher.aclose()
        await asyncio.to_thread(redis_cluster_nodes.move_slot, slot, target, source)


async def test_a_shard_gone_silent_is_found_by_its_pings_and_only_its_rooms_are_checked(
    cluster_client: RedisCluster, redis_cluster_nodes: RedisClusterNodes
):
    """SIGSTOP closes nothing: only the shard subscriber's unanswered PING shows it is gone."""
    rooms = range(1, 13)
    shards = shards_of(cluster_client, rooms)
    subscriber, publisher, sink = (
        RedisClusterBus(cluster_client, health_interval=0.3),
        RedisClusterBus(cluster_client),
        Sink(),
    )
    subscriber.attach(sink)
    subscriber.start()
    publisher.start()
    paused = sorted(shards)[0]
    process = redis_cluster_nodes.processes[paused]
    try:
        await asyncio.wait_for(
            asyncio.gather(*(subscriber.subscribe(room_channel(r)) for r in rooms)), 10
        )
        process.send_signal(signal.SIGSTOP)
        await asyncio.sleep(1.2)  # four health intervals: silent, never closed
        process.send_signal(signal.SIGCONT)
        checked = await asyncio.wait_for(sink.checks.get(), 15)
        assert checked == frozenset(shards[paused])
        for room_id in sorted(shards[paused]):  # subscribed again on the same master
            await publisher.publish(MessagePosted(message(room_id, 3)))
        assert await sink.rooms_of_next_frames(len(shards[paused])) == shards[paused]
    finally:
        process.send_signal(signal.SIGCONT)
        await subscriber.aclose()
        await publisher.aclose()
