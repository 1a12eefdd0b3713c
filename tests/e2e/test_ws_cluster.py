"""/ws across two real `chatd serve` processes sharing PostgreSQL and Redis.

Every receiver must see every message of its rooms exactly once, in ascending seq with no gap,
whichever process stored it, while Pub/Sub is cut, across a reconnect with resume, and while
another client in the room stops reading.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from tests.cluster import Cluster, assert_gapless, running_cluster, send_all, until_seq

pytestmark = pytest.mark.slow


@pytest.fixture
async def cluster(settings) -> AsyncIterator[Cluster]:
    async with running_cluster(settings) as cluster:
        yield cluster


async def test_frames_cross_processes_both_ways(cluster):
    alice, bob = await cluster.users(2)
    room_id = await cluster.http_a.create_room(alice)
    on_a = await cluster.connect(cluster.a, alice)
    on_b = await cluster.connect(cluster.b, bob)

    assert (await on_b.request({"type": "join_room", "room_id": room_id}))["type"] == "ack"
    joined = await on_a.expect("join_room", room_id=room_id)
    assert joined["user"]["id"] == on_b.ready["user"]["id"]
    assert (await on_a.expect("system_message"))["message"]["seq"] == 1

    sent = await on_b.request({"type": "send_message", "room_id": room_id, "body": "from B"})
    assert (await on_a.expect("new_message"))["message"] == sent["message"]
    sent = await on_a.request({"type": "send_message", "room_id": room_id, "body": "from A"})
    assert (await on_b.expect("new_message", within=10))["message"]["body"] == "from B"
    assert (await on_b.expect("new_message"))["message"] == sent["message"]
    assert (await on_a.expect("new_message"))["message"] == sent["message"]

    curl = await cluster.http_b.post(alice, room_id, "posted with curl on B")
    assert (await on_a.expect("new_message"))["message"] == curl
    assert (await on_b.expect("new_message"))["message"] == curl

    await on_b.request({"type": "typing", "room_id": room_id})
    typing = await on_a.expect("typing", room_id=room_id)
    assert typing["user"]["id"] == on_b.ready["user"]["id"]

    await on_b.request({"type": "leave_room", "room_id": room_id})
    assert (await on_a.expect("leave_room", room_id=room_id))["user"]["id"] == typing["user"]["id"]
    left = await on_a.expect("system_message")
    assert left["message"]["seq"] == 5


async def test_a_join_on_one_process_reaches_the_users_socket_on_the_other(cluster):
    alice, bob = await cluster.users(2)
    room_id = await cluster.http_a.create_room(alice)
    bob_on_b = await cluster.connect(cluster.b, bob)
    bob_on_a = await cluster.connect(cluster.a, bob)
    assert (await bob_on_a.request({"type": "join_room", "room_id": room_id}))["type"] == "ack"
    await bob_on_b.expect("join_room", room_id=room_id)
    posted = await cluster.http_a.post(alice, room_id, "hello bob, wherever you are")
    assert (await bob_on_b.expect("new_message"))["message"] == posted


async def test_four_senders_six_receivers_two_thousand_messages_in_order(cluster):
    owner = (await cluster.users(1))[0]
    room_id = await cluster.http_a.create_room(owner)
    senders = await cluster.users(4, room_id)
    readers = await cluster.users(6, room_id)
    first = 11  # seqs 1..10: the ten "joined" messages
    receivers = [await cluster.connect(cluster.server(i), t) for i, t in enumerate(readers)]
    sockets = [await cluster.connect(cluster.server(i), t) for i, t in enumerate(senders)]
    last = first + 4 * 500 - 1

    async with asyncio.timeout(180):
        received = asyncio.gather(
            *(r.collect_messages(room_id, until_seq(last), within=180) for r in receivers)
        )
        await asyncio.gather(*(send_all(s, room_id, 500, f"s{i}") for i, s in enumerate(sockets)))
        for messages in await received:
            assert_gapless(messages, first, last)
    bodies = {m["body"] for m in messages}
    assert bodies == {f"s{i}-{n}" for i in range(4) for n in range(500)}


async def test_pubsub_cut_while_posting_loses_nothing(cluster, redis_url):
    owner = (await cluster.users(1))[0]
    room_id = await cluster.http_a.create_room(owner)
    readers = await cluster.users(4, room_id)
    first = 5
    receivers = [await cluster.connect(cluster.server(i), t) for i, t in enumerate(readers)]
    total = 300
    last = first + total - 1
    admin = redis.Redis.from_url(redis_url)
    try:
        async with asyncio.timeout(120):
            received = asyncio.gather(
                *(r.collect_messages(room_id, until_seq(last), within=120) for r in receivers)
            )
            killed = 0
            for n in range(total):
                http = (cluster.http_a, cluster.http_b)[n % 2]
                await http.post(owner, room_id, f"m{n}")
                if n % 50 == 25:
                    killed += await admin.client_kill_filter(_type="pubsub")
            for messages in await received:
                assert_gapless(messages, first, last)
        assert killed >= 6, "each cut killed both processes' subscribers"
        for server in (cluster.a, cluster.b):
            assert "event bus reconnected" in server.log_path.read_text(errors="replace")
    finally:
        await admin.aclose()


async def test_the_last_message_arrives_even_when_it_was_posted_during_a_cut(cluster, redis_url):
    owner, reader = await cluster.users(2)
    room_id = await cluster.http_a.create_room(owner)
    await cluster.http_a.join(reader, room_id)
    client = await cluster.connect(cluster.b, reader)
    admin = redis.Redis.from_url(redis_url)
    try:
        for n in range(5):
            await admin.client_kill_filter(_type="pubsub")
            await cluster.http_a.post(owner, room_id, f"during cut {n}")
        got = await client.collect_messages(room_id, until_seq(6), within=20)
        assert_gapless(got, 2, 6)
    finally:
        await admin.aclose()


async def test_resume_after_a_disconnect_replays_then_goes_live(cluster):
    owner, reader = await cluster.users(2)
    room_id = await cluster.http_a.create_room(owner)
    await cluster.http_a.join(reader, room_id)
    client = await cluster.connect(cluster.a, reader)
    for n in range(10):
        await cluster.http_b.post(owner, room_id, f"before {n}")
    seen = await client.collect_messages(room_id, until_seq(11))
    last_seen = seen[-1]["seq"]
    await client.ws.close()

    for n in range(50):
        await cluster.http_b.post(owner, room_id, f"missed {n}")
    poster = await cluster.connect(cluster.b, owner)
    posting, reconnected = asyncio.Event(), asyncio.Event()

    async def post_live() -> int:
        """Post one by one until 20 acks came after the reconnect: overlap by construction."""
        sent = after_reconnect = 0
        while after_reconnect < 20:
            await poster.send({"type": "send_message", "room_id": room_id, "body": f"live {sent}"})
            while (await poster.recv(60))["type"] != "ack":
                pass
            sent += 1
            after_reconnect += reconnected.is_set()
            if sent == 10:
                posting.set()
        return sent

    live = asyncio.create_task(post_live())
    await asyncio.wait_for(posting.wait(), 30)  # reconnect in the middle of the live posts
    again = await cluster.connect(cluster.a, reader, resume={room_id: last_seen})
    reconnected.set()
    live_count = await asyncio.wait_for(live, 60)
    final = last_seen + 50 + live_count
    got = await again.collect_messages(room_id, until_seq(final), within=60)
    assert_gapless(got, last_seen + 1, final)
    assert [m["body"] for m in got[:50]] == [f"missed {n}" for n in range(50)]
    assert [m["body"] for m in got[50:]] == [f"live {n}" for n in range(live_count)]


async def test_resume_past_a_thousand_missed_says_resync_required(cluster):
    owner, reader = await cluster.users(2)
    room_id = await cluster.http_a.create_room(owner)
    await cluster.http_a.join(reader, room_id)
    poster = await cluster.connect(cluster.b, owner)
    await send_all(poster, room_id, 1002, "flood")
    client = await cluster.connect(cluster.a, reader, resume={room_id: 1})
    assert await client.expect("resync_required") == {"type": "resync_required", "room_id": room_id}
    posted = await cluster.http_b.post(owner, room_id, "after the resync")
    assert (await client.expect("new_message"))["message"] == posted


async def test_shutdown_closes_sockets_with_1001(cluster):
    (alice,) = await cluster.users(1)
    client = await cluster.connect(cluster.a, alice)
    closed = asyncio.create_task(client.closed(within=20))
    started = asyncio.get_running_loop().time()
    assert await asyncio.to_thread(cluster.a.stop) == 0
    assert await closed == 1001
    assert asyncio.get_running_loop().time() - started < 10
