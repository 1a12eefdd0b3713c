"""Rate limits, presence and typing across two real `chatd serve` processes on a 3-master Redis
Cluster (CHATD_REDIS_CLUSTER=1): the hash-tagged keys and the scripts work on shards, and the
frames they cause (presence, typing) reach the other process through sharded Pub/Sub."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatd.application.realtime import TYPING_INTERVAL
from tests.cluster import Cluster, running_cluster

pytestmark = pytest.mark.slow

ENV = {
    "CHATD_REDIS_CLUSTER": "1",
    "CHATD_ROOM_RATE": "2",
    "CHATD_JOIN_RATE": "2",
    "CHATD_MESSAGE_RATE": "5",
    "CHATD_LOGIN_RATE": "3",
}


@pytest.fixture
async def cluster(cluster_settings) -> AsyncIterator[Cluster]:
    async with running_cluster(cluster_settings, **ENV) as cluster:
        yield cluster


def presence_of(user_id: int):
    return lambda frame: frame["type"] == "presence" and frame["user"]["id"] == user_id


async def test_presence_and_typing_cross_processes(cluster):
    alice, bob = await cluster.users(2)
    rooms = [await cluster.http_a.create_room(alice, f"r{n}") for n in range(2)]
    for room_id in rooms:
        await cluster.http_b.join(bob, room_id)
    watcher = await cluster.connect(cluster.a, alice)
    bob_on = [await cluster.connect(server, bob) for server in (cluster.a, cluster.b)]
    bob_id = bob_on[0].ready["user"]["id"]
    # Presence frames go to every room of the user, whichever shard owns each room's channel
    # (rooms 1 and 2: on two different shards of three).
    online = [await watcher.expect_match(presence_of(bob_id)) for _ in rooms]
    assert {(f["room_id"], f["online"]) for f in online} == {(room_id, True) for room_id in rooms}

    await asyncio.gather(*(bob.close() for bob in bob_on))
    offline = [await watcher.expect_match(presence_of(bob_id), within=20) for _ in rooms]
    assert {(f["room_id"], f["online"]) for f in offline} == {(room_id, False) for room_id in rooms}

    bob_on = [await cluster.connect(server, bob) for server in (cluster.a, cluster.b)]
    for _ in rooms:
        await watcher.expect_match(presence_of(bob_id))
    typing = {"type": "typing", "room_id": rooms[0]}
    for n in range(6):  # within one interval, through both processes: one notice
        assert (await bob_on[n % 2].request(typing))["type"] == "ack"
    sent = await bob_on[0].request({"type": "send_message", "room_id": rooms[0], "body": "hi"})
    seen = await watcher.frames_until(lambda f: f.get("message") == sent["message"])
    notices = [f for f in seen if f["type"] == "typing" and f["user"]["id"] == bob_id]
    assert len(notices) == 1, seen
    await asyncio.sleep(TYPING_INTERVAL.total_seconds())
    assert (await bob_on[1].request(typing))["type"] == "ack"
    assert (await watcher.expect("typing", room_id=rooms[0]))["user"]["id"] == bob_id


async def test_rate_limits_count_across_processes(cluster):
    owner, bob, carol = await cluster.users(3)
    headers = {"Authorization": f"Bearer {owner}"}
    await cluster.http_a.create_room(owner, "one")
    await cluster.http_b.create_room(owner, "two")
    async with cluster.session.post(
        f"{cluster.a.url}/api/rooms", json={"name": "three"}, headers=headers
    ) as response:
        assert response.status == 429
        assert 0 < int(response.headers["Retry-After"]) <= 3600
    room_id = await cluster.http_b.create_room(carol, "carol's")  # another user is not limited

    await cluster.http_a.join(bob, room_id)
    on = [await cluster.connect(server, bob) for server in (cluster.a, cluster.b)]
    replies = []
    for n in range(6):  # five messages per window, whichever process they come through
        send = {"type": "send_message", "room_id": room_id, "body": f"{n}"}
        replies.append(await on[n % 2].request(send))
    assert [reply["type"] for reply in replies] == ["ack"] * 5 + ["error"]
    assert replies[-1]["code"] == "rate_limited"

    # Failed logins: counted across processes too (three allowed, then 429).
    statuses = []
    for n in range(4):
        http = (cluster.http_a, cluster.http_b)[n % 2]
        wrong = {"username": "user3", "password": "wrong password"}
        status, _ = await http.call("POST", "/api/auth/login", json=wrong)
        statuses.append(status)
    assert statuses == [401, 401, 401, 429]
