"""Rate limits, presence and typing across two real `chatd serve` processes on a 3-master Redis
Cluster (CHATD_REDIS_CLUSTER=1): the hash-tagged keys and the scripts work on shards, and the
frames they cause (presence, typing) reach the other process through sharded Pub/Sub."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatd.application.realtime import TYPING_INTERVAL
from chatd.infrastructure.channels import room_channel
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


async def members_online(cluster: Cluster, room_id: int, token: str) -> list[dict[int, bool]]:
    """Who the members route says is online, asked of each process."""
    answers = []
    for http in (cluster.http_a, cluster.http_b):
        status, body = await http.call("GET", f"/api/rooms/{room_id}/members", token=token)
        assert status == 200, body
        answers.append({member["user"]["id"]: member["online"] for member in body["members"]})
    return answers


async def test_presence_comes_back_with_its_shard(cluster, cluster_client, redis_cluster_nodes):
    """The shard holding `chatd:{presence}:…` is SIGKILLed and restarted empty: messages go on
    meanwhile (but for authors whose rate counter is on that shard), a socket opened during the
    outage is accepted, and once the shard is back the processes claim their users again (their
    next renewal finds the claims lost)."""
    alice, bob, carol = await cluster.users(3)
    room_id, talk = [await cluster.http_a.create_room(alice, name) for name in ("one", "two")]
    for token in (bob, carol):
        for room in (room_id, talk):
            await cluster.http_b.join(token, room)
    watcher = await cluster.connect(cluster.a, alice)
    bob_on_b = await cluster.connect(cluster.b, bob)
    ids = [watcher.ready["user"]["id"], bob_on_b.ready["user"]["id"]]
    await watcher.expect_match(presence_of(ids[1]))
    presence_port = cluster_client.get_node_from_key("{presence}").port
    assert cluster_client.get_node_from_key(room_channel(talk)).port != presence_port
    loop = asyncio.get_running_loop()

    redis_cluster_nodes.kill(presence_port)
    try:
        carol_on_a = await cluster.connect(cluster.a, carol)  # accepted, presence or not
        ids.append(carol_on_a.ready["user"]["id"])
        # A send is refused as `unavailable` only when its author's rate counter lives on the
        # shard that is down (as every send is when the single Redis is down); others go on.
        outcomes = set()
        for sender, user_id in ((bob_on_b, ids[1]), (carol_on_a, ids[2])):
            counter = cluster_client.get_node_from_key(f"chatd:rate:{{send:{user_id}}}").port
            sent = await sender.request({"type": "send_message", "room_id": talk, "body": "x"})
            if counter == presence_port:
                assert (sent["type"], sent["code"]) == ("error", "unavailable"), sent
            else:
                assert sent["type"] == "ack", sent
                await watcher.expect_match(lambda f, sent=sent: f.get("message") == sent["message"])
            outcomes.add(sent["type"])
        assert "ack" in outcomes
    finally:
        await asyncio.to_thread(redis_cluster_nodes.restart, presence_port)
        await asyncio.to_thread(redis_cluster_nodes.wait_ok)
    back_at = loop.time()
    everyone = {user_id: True for user_id in ids}
    deadline = back_at + 30
    while (answers := await members_online(cluster, room_id, alice)) != [everyone] * 2:
        assert loop.time() < deadline, answers
        await asyncio.sleep(0.5)
    print(f"\npresence shard restarted empty: all online again {loop.time() - back_at:.1f}s later")
