"""Two real `chatd serve` processes on a 3-master Redis Cluster (CHATD_REDIS_CLUSTER=1): rooms
whose channels live on every shard deliver to every member on both processes, gapless and in
order; a SIGKILLed master stalls only its own rooms, which catch up when it is back with nothing
lost or doubled, while the rooms on the other shards deliver all along."""

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from redis.asyncio.cluster import RedisCluster

from chatd.bench.redis_nodes import RedisClusterNodes
from chatd.infrastructure.channels import room_channel
from tests.cluster import Cluster, assert_gapless, running_cluster, send_all
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

CLUSTER_ENV = {"CHATD_REDIS_CLUSTER": "1"}


@pytest.fixture
async def cluster(cluster_settings) -> AsyncIterator[Cluster]:
    async with running_cluster(cluster_settings, **CLUSTER_ENV) as cluster:
        yield cluster


def shard_of(client: RedisCluster, room_id: int) -> int:
    """The port of the primary that owns the room's channel (asked of redis-py's slot table)."""
    return client.get_node_from_key(room_channel(room_id)).port


async def rooms_on_every_shard(
    cluster: Cluster, client: RedisCluster, owner: str, members: list[str]
) -> dict[int, int]:
    """Create rooms until each shard owns one's channel: shard port -> room id."""
    shards = {node.port for node in client.get_primaries()}
    rooms: dict[int, int] = {}
    for n in range(200):
        room_id = await cluster.http_a.create_room(owner, f"room {n}")
        if (port := shard_of(client, room_id)) not in rooms:
            rooms[port] = room_id
            for token in members:
                await cluster.http_b.join(token, room_id)
        if rooms.keys() == shards:
            return rooms
    raise AssertionError(f"no room landed on some shard: {rooms}")


async def test_rooms_on_every_shard_reach_both_processes_in_order(cluster, cluster_client):
    alice, bob = await cluster.users(2)
    rooms = await rooms_on_every_shard(cluster, cluster_client, alice, [bob])
    readers = [
        await cluster.connect(server, token)
        for server in (cluster.a, cluster.b)
        for token in (alice, bob)
    ]
    # A writer per room and user: alice through A, bob through B, all at once.
    writers = {
        (room_id, token): await cluster.connect(server, token)
        for room_id in rooms.values()
        for server, token in ((cluster.a, alice), (cluster.b, bob))
    }
    count = 40
    firsts = {}
    for room_id in rooms.values():
        first = {"type": "send_message", "room_id": room_id, "body": "0"}
        firsts[room_id] = (await writers[room_id, alice].request(first))["message"]["seq"]
    await asyncio.gather(
        *(
            send_all(writer, room_id, count, f"{room_id}-{n}")
            for n, ((room_id, _), writer) in enumerate(writers.items())
        )
    )
    last = {room_id: first + 2 * count for room_id, first in firsts.items()}
    for reader in readers:
        # One reader sees its rooms' frames interleaved: read them all, then split by room.
        got = await reader.frames_until(
            lambda frame, seen={}: _all_seen(frame, seen, last), within=60
        )
        for room_id, first in firsts.items():
            messages = [
                f["message"]
                for f in got
                if f["type"] == "new_message" and f["message"]["room_id"] == room_id
            ]
            assert_gapless(messages, first, last[room_id])
    print(f"\n{len(rooms)} shards, {2 * count + 1} messages per room, 4 readers on 2 processes")


def _all_seen(frame: dict, seen: dict[int, int], last: dict[int, int]) -> bool:
    if frame["type"] == "new_message":
        message = frame["message"]
        seen[message["room_id"]] = max(seen.get(message["room_id"], 0), message["seq"])
    return all(seen.get(room_id, 0) >= seq for room_id, seq in last.items())


@dataclass
class Arrivals:
    """What one reader received of one room: each message's seq and when it arrived."""

    seqs: list[int] = field(default_factory=list)
    times: list[float] = field(default_factory=list)

    def largest_gap(self, start: float, end: float) -> float:
        """The longest stretch without a message between start and end."""
        inside = [start, *(t for t in self.times if start < t < end), end]
        return max(b - a for a, b in itertools.pairwise(inside))


async def read_rooms(reader: WsClient, arrivals: dict[int, Arrivals], stop: asyncio.Event):
    while not stop.is_set():
        try:
            frame = await reader.recv(0.5)
        except TimeoutError:
            continue
        if frame["type"] == "new_message" and frame["message"]["room_id"] in arrivals:
            got = arrivals[frame["message"]["room_id"]]
            got.seqs.append(frame["message"]["seq"])
            got.times.append(time.monotonic())


async def post_steadily(
    writer: WsClient, room_id: int, acked: list[tuple[int, float]], stop: asyncio.Event
) -> None:
    """One message every 50 ms, each waited for: the seqs the server acked (stored), and when."""
    n = 0
    while not stop.is_set():
        n += 1
        reply = await writer.request({"type": "send_message", "room_id": room_id, "body": f"{n}"})
        assert reply["type"] == "ack", reply
        acked.append((reply["message"]["seq"], time.monotonic()))
        await asyncio.sleep(0.05)


async def test_a_killed_master_stalls_only_its_rooms_which_catch_up(
    cluster, cluster_client, redis_cluster_nodes: RedisClusterNodes, figure
):
    alice, bob = await cluster.users(2)
    rooms = await rooms_on_every_shard(cluster, cluster_client, alice, [bob])
    # The shard to kill: not the one holding presence (`chatd:{presence}:…`), whose outage is
    # the single-Redis outage for presence alone; this test is about the rooms' Pub/Sub.
    presence_port = cluster_client.get_node_from_key("{presence}").port
    killed = next(port for port in sorted(rooms) if port != presence_port)
    readers = [await cluster.connect(cluster.a, alice), await cluster.connect(cluster.b, bob)]
    # One writer per room, through B, A, B: each waits for its ack before the next message.
    writers = [await cluster.connect(cluster.server(n + 1), (alice, bob)[n % 2]) for n in range(3)]
    arrivals = [{room_id: Arrivals() for room_id in rooms.values()} for _ in readers]
    acks: dict[int, list[tuple[int, float]]] = {room_id: [] for room_id in rooms.values()}
    stop_reading, stop_posting = asyncio.Event(), asyncio.Event()
    reading = [
        asyncio.create_task(read_rooms(reader, got, stop_reading))
        for reader, got in zip(readers, arrivals, strict=True)
    ]
    posting = [
        asyncio.create_task(post_steadily(writers[n], room_id, acks[room_id], stop_posting))
        for n, room_id in enumerate(rooms.values())
    ]
    try:
        await asyncio.sleep(2)
        killed_at = time.monotonic()
        redis_cluster_nodes.kill(killed)
        await asyncio.sleep(2)  # posting goes on, to every room
        for server in (cluster.a, cluster.b):  # still ready: the other shards serve
            async with cluster.session.get(f"{server.url}/readyz") as response:
                assert response.status == 200, await response.text()
        await asyncio.sleep(2)
        restarted_at = time.monotonic()
        await asyncio.to_thread(redis_cluster_nodes.restart, killed)
        await asyncio.to_thread(redis_cluster_nodes.wait_ok)
        await asyncio.sleep(2)
        stop_posting.set()
        await asyncio.gather(*posting)
        acked = {room_id: [seq for seq, _ in sent] for room_id, sent in acks.items()}

        # Every acked message reaches both readers, the killed shard's rooms too.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not all(  # noqa: ASYNC110 (readers are tasks)
            set(acked[room_id]) <= set(got[room_id].seqs) for got in arrivals for room_id in acked
        ):
            await asyncio.sleep(0.1)
    finally:
        stop_posting.set()
        stop_reading.set()
        await asyncio.gather(*posting, *reading, return_exceptions=True)

    killed_room = rooms[killed]
    for got in arrivals:
        for room_id, sent in acked.items():
            seqs = got[room_id].seqs
            lost = sorted(set(sent) - set(seqs))
            duplicates = len(seqs) - len(set(seqs))
            assert (lost, duplicates) == ([], 0), (room_id, lost[:10], duplicates)
            assert seqs == sorted(seqs), f"room {room_id} out of order"
            assert seqs == list(range(seqs[0], seqs[-1] + 1)), f"room {room_id} has a gap"
        outage_end = restarted_at
        for port, room_id in rooms.items():
            if port != killed:
                gap = got[room_id].largest_gap(killed_at, outage_end)
                # Posting every ~50 ms: a pause of the whole outage (4 s) would be the bug.
                assert gap < 2.0, f"room {room_id} on a live shard paused {gap:.2f}s"
    # Caught up: the last message stored while the shard was down reaches the reader.
    last_in_outage = max(seq for seq, at in acks[killed_room] if at < restarted_at)
    got = arrivals[0][killed_room]
    caught_up = got.times[got.seqs.index(last_in_outage)] - restarted_at
    in_outage = sum(killed_at < t < restarted_at for t in got.times)
    gaps = [
        arrivals[0][room_id].largest_gap(killed_at, restarted_at)
        for port, room_id in rooms.items()
        if port != killed
    ]
    figure(
        f"killed shard {killed}: {len(acked[killed_room])} messages acked in its room, "
        f"{in_outage} delivered during the outage, lost 0, duplicates 0, "
        f"caught up {caught_up:.2f}s after the shard restarted; "
        f"other shards' longest pause during the outage {max(gaps):.2f}s"
    )
