"""DMs, bans and private rooms across two real `chatd serve` processes sharing PostgreSQL and
Redis: one DM room however the two users race for it, a banned user's socket on the other
process cut from the room within a second, a private room that takes only the invited."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.cluster import Cluster, running_cluster

pytestmark = pytest.mark.slow

BAN_BOUND = 1.0  # seconds: a banned user's sockets stop receiving the room within this


@pytest.fixture
async def cluster(settings) -> AsyncIterator[Cluster]:
    async with running_cluster(settings) as cluster:
        yield cluster


async def user_id(cluster: Cluster, token: str) -> int:
    return (await cluster.http_a.call("GET", "/api/me", token=token))[1]["id"]


async def test_concurrent_dm_creation_on_both_processes_makes_one_room(cluster):
    """Five pairs of users, each pair asking for its DM at the same moment, one on each
    process: one room per pair, created once, followed by both users' open sockets."""
    for _ in range(5):
        alice, bob = await cluster.users(2)
        alice_id, bob_id = await user_id(cluster, alice), await user_id(cluster, bob)
        bob_on_a = await cluster.connect(cluster.a, bob)
        (status_a, on_a), (status_b, on_b) = await asyncio.gather(
            cluster.http_a.call("POST", "/api/dms", token=alice, json={"user_id": bob_id}),
            cluster.http_b.call("POST", "/api/dms", token=bob, json={"user_id": alice_id}),
        )
        assert sorted((status_a, status_b)) == [200, 201], (on_a, on_b)
        assert on_a["id"] == on_b["id"] and on_a["kind"] == "dm"
        await bob_on_a.expect("join_room", room_id=on_a["id"])
        posted = await cluster.http_b.post(alice, on_a["id"], "hello bob")
        assert (await bob_on_a.expect("new_message"))["message"] == posted
        await bob_on_a.close()


async def test_a_banned_users_socket_on_the_other_process_stops_receiving_the_room(cluster):
    owner, witness, banned = await cluster.users(3)
    room_id = await cluster.http_a.create_room(owner)
    for token in (witness, banned):
        await cluster.http_a.join(token, room_id)
    banned_id = await user_id(cluster, banned)
    on_b = await cluster.connect(cluster.b, banned)
    watcher = await cluster.connect(cluster.b, witness)  # same process: proves delivery went on

    loop = asyncio.get_running_loop()
    status, _ = await cluster.http_a.call(
        "POST", f"/api/rooms/{room_id}/bans", token=owner, json={"user_id": banned_id}
    )
    banned_at = loop.time()
    assert status == 201
    said = await on_b.expect("system_message", within=BAN_BOUND)
    assert said["message"]["body"].endswith("was banned") and said["message"]["room_id"] == room_id
    left = await on_b.expect("leave_room", room_id=room_id, within=BAN_BOUND)
    assert left["user"]["id"] == banned_id
    assert loop.time() - banned_at < BAN_BOUND

    await asyncio.sleep(max(0.0, banned_at + BAN_BOUND - loop.time()))  # the bound under test
    after = [await cluster.http_a.post(owner, room_id, f"after the ban {n}") for n in range(3)]
    for posted in after:
        assert (await watcher.expect("new_message"))["message"] == posted
    # The witness on the same process has them all; whatever the banned socket was sent
    # before its answer to this frame is all it will ever get of them.
    await on_b.send({"type": "join_room", "room_id": room_id, "ref": "rejoin"})
    seen = await on_b.frames_until(lambda frame: frame.get("ref") == "rejoin")
    assert (seen[-1]["type"], seen[-1]["code"]) == ("error", "banned")
    kinds = {"new_message", "system_message", "typing", "join_room", "leave_room"}
    leaked = [f for f in seen if f["type"] in kinds]
    assert leaked == [], leaked

    status, body = await cluster.http_b.call("POST", f"/api/rooms/{room_id}/join", token=banned)
    assert (status, body["error"]["code"]) == (403, "banned")
    await cluster.http_b.call("DELETE", f"/api/rooms/{room_id}/bans/{banned_id}", token=owner)
    assert (await on_b.request({"type": "join_room", "room_id": room_id}))["type"] == "ack"
    posted = await cluster.http_a.post(owner, room_id, "welcome back")
    assert (await on_b.expect("new_message"))["message"] == posted


async def test_a_private_room_refuses_a_join_without_an_invitation(cluster):
    owner, guest = await cluster.users(2)
    status, room = await cluster.http_a.call(
        "POST", "/api/rooms", token=owner, json={"name": "secret", "private": True}
    )
    assert status == 201
    guest_id = await user_id(cluster, guest)
    on_b = await cluster.connect(cluster.b, guest)
    refused = await on_b.request({"type": "join_room", "room_id": room["id"]})
    assert (refused["type"], refused["code"]) == ("error", "room_not_found")
    status, body = await cluster.http_b.call("POST", f"/api/rooms/{room['id']}/join", token=guest)
    assert (status, body["error"]["code"]) == (404, "room_not_found")

    status, _ = await cluster.http_a.call(
        "POST", f"/api/rooms/{room['id']}/invitations", token=owner, json={"user_id": guest_id}
    )
    assert status == 201
    joined = await on_b.request({"type": "join_room", "room_id": room["id"]})
    assert joined["type"] == "ack" and joined["room"]["private"] is True
    posted = await cluster.http_a.post(owner, room["id"], "welcome")
    assert (await on_b.expect("new_message"))["message"] == posted
