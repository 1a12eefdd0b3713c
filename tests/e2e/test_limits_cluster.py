"""The last limits, across two real `chatd serve` processes: typing once per interval whichever
process it comes through, room creations and joins per user (429 with Retry-After over REST,
`rate_limited` over the WebSocket), and 1008 for a client still sending 10 s after rate_limited;
other users are never affected."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatd.application.realtime import TYPING_INTERVAL
from tests.cluster import Cluster, running_cluster
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

LIMITS = {"CHATD_ROOM_RATE": "2", "CHATD_JOIN_RATE": "2", "CHATD_MESSAGE_RATE": "5"}


@pytest.fixture
async def cluster(settings) -> AsyncIterator[Cluster]:
    async with running_cluster(settings, **LIMITS) as cluster:
        yield cluster


async def refused_over_http(cluster: Cluster, url: str, token: str, json=None) -> int:
    """POST that must be refused as rate limited: its Retry-After."""
    headers = {"Authorization": f"Bearer {token}"}
    async with cluster.session.post(url, json=json, headers=headers) as response:
        body = await response.json()
        assert (response.status, body["error"]["code"]) == (429, "rate_limited"), body
        return int(response.headers["Retry-After"])


async def test_typing_from_two_processes_is_one_notice_per_interval(cluster):
    alice, bob = await cluster.users(2)
    room_id = await cluster.http_a.create_room(alice)
    await cluster.http_b.join(bob, room_id)
    watcher = await cluster.connect(cluster.a, alice)
    bob_on = [await cluster.connect(server, bob) for server in (cluster.a, cluster.b)]
    bob_id = bob_on[0].ready["user"]["id"]
    typing = {"type": "typing", "room_id": room_id}

    async def bob_types(count: int, pause: float = 0.0) -> None:
        for n in range(count):  # through one process, then the other
            assert (await bob_on[n % 2].request(typing))["type"] == "ack"
            await asyncio.sleep(pause)

    async def notices_until_sentinel(body: str) -> int:
        sent = await bob_on[0].request({"type": "send_message", "room_id": room_id, "body": body})
        seen = await watcher.frames_until(lambda f: f.get("message") == sent["message"])
        return sum(f["type"] == "typing" and f["user"]["id"] == bob_id for f in seen)

    await bob_types(6)  # all within one interval
    assert await notices_until_sentinel("one") == 1

    loop = asyncio.get_running_loop()
    started = loop.time()
    await bob_types(20, pause=0.25)  # typing all along for some 5 s, on both processes
    intervals = (loop.time() - started) / TYPING_INTERVAL.total_seconds()
    notices = await notices_until_sentinel("two")
    print(f"\n{notices} typing notices in {intervals:.1f} intervals")
    assert 2 <= notices <= int(intervals) + 1


async def test_room_creations_and_joins_are_limited_per_user(cluster):
    owner, bob, carol = await cluster.users(3)
    rooms = [await http.create_room(owner) for http in (cluster.http_a, cluster.http_b)]
    wait = await refused_over_http(cluster, f"{cluster.a.url}/api/rooms", owner, {"name": "3rd"})
    assert 0 < wait <= 3600
    rooms.append(await cluster.http_b.create_room(carol))  # another user creates as she likes

    await cluster.http_a.join(bob, rooms[0])
    bob_on_b = await cluster.connect(cluster.b, bob)
    assert (await bob_on_b.request({"type": "join_room", "room_id": rooms[1]}))["type"] == "ack"
    refused = await bob_on_b.request({"type": "join_room", "room_id": rooms[2]})
    assert (refused["type"], refused["code"]) == ("error", "rate_limited")
    assert 0 < refused["retry_after"] <= 60
    wait = await refused_over_http(cluster, f"{cluster.a.url}/api/rooms/{rooms[2]}/join", bob)
    assert 0 < wait <= 60
    await cluster.http_a.join(owner, rooms[2])  # others still join


async def test_a_client_still_sending_after_rate_limited_is_closed_with_1008(cluster):
    owner, flooder, other = await cluster.users(3)
    room_id = await cluster.http_a.create_room(owner)
    for token in (flooder, other):
        await cluster.http_b.join(token, room_id)
    sender = await WsClient.connect(cluster.a.url, flooder, session=cluster.session)
    bystander = await cluster.connect(cluster.b, other)

    async def flood() -> None:
        for n in range(1000):
            await sender.send({"type": "send_message", "room_id": room_id, "body": f"{n}"})
            await asyncio.sleep(0.1)

    loop = asyncio.get_running_loop()
    flooding = asyncio.create_task(flood())
    first = await sender.expect("error", within=10, code="rate_limited")
    refused_at = loop.time()
    assert await sender.closed(within=30) == 1008
    print(f"\nclosed with 1008 {loop.time() - refused_at:.1f} s after the first rate_limited")
    assert first["retry_after"] > 0
    flooding.cancel()
    await asyncio.gather(flooding, return_exceptions=True)
    sent = await bystander.request({"type": "send_message", "room_id": room_id, "body": "hi"})
    assert sent["type"] == "ack", "other users are not affected"
