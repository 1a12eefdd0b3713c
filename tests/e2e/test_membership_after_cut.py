"""A join or leave made elsewhere while this process's Pub/Sub connection is down still reaches
the user's sockets here, once the subscriber is back (found by tests/e2e/test_room_model.py).

Pub/Sub drops what is published while the subscriber is away. Rooms were checked against the
database after a reconnect, but a user's membership changes were not: a socket then never
followed a room its user joined elsewhere, and went on streaming a room its user had left."""

import pytest
import redis.asyncio as redis

from tests.cluster import running_cluster

pytestmark = pytest.mark.slow

ROUNDS = 5  # the join races the subscriber's reconnect: one round alone may miss the window


async def test_joins_and_leaves_made_during_a_pubsub_cut_reach_the_socket(settings, redis_url):
    admin = redis.Redis.from_url(redis_url)
    try:
        async with running_cluster(settings) as cluster:
            owner, user = await cluster.users(2)
            rooms = [await cluster.http_a.create_room(owner, f"r{n}") for n in range(ROUNDS)]
            socket = await cluster.connect(cluster.b, user)
            for room_id in rooms:  # joined on process a while b's subscriber is cut off
                await admin.client_kill_filter(_type="pubsub")
                await cluster.http_a.join(user, room_id)
            for room_id in rooms:
                await socket.expect("join_room", within=15, room_id=room_id)
                posted = await cluster.http_a.post(owner, room_id, "can you hear me?")
                got = await socket.expect("new_message", within=15)
                assert got["message"] == posted

            for room_id in rooms:  # left on process a while b's subscriber is cut off
                await admin.client_kill_filter(_type="pubsub")
                status, _ = await cluster.http_a.call(
                    "POST", f"/api/rooms/{room_id}/leave", token=user
                )
                assert status == 204
            # A room joined after one more cut shows when b has caught up, leaves included.
            probe = await cluster.http_a.create_room(owner, "probe")
            await admin.client_kill_filter(_type="pubsub")
            await cluster.http_a.join(user, probe)
            await socket.expect("join_room", within=15, room_id=probe)
            for room_id in rooms:
                await cluster.http_a.post(owner, room_id, "you left, you should not see this")
            last = await cluster.http_a.post(owner, probe, "but this, yes")
            frames = await socket.frames_until(
                lambda f: f["type"] == "new_message" and f["message"]["id"] == last["id"],
                within=15,
            )
            leaked = [f for f in frames if f.get("message", {}).get("room_id") in rooms]
            assert not [f for f in leaked if f["type"] == "new_message"], leaked
    finally:
        await admin.aclose()
