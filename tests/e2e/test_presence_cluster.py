"""Presence across two real `chatd serve` processes on one PostgreSQL and Redis: frames on the
other process, `online` in the members route on both, one presence for several sockets, a quick
reconnect that says nothing, a SIGKILLed process's users offline within the bound, and a
restart that does not flood the rooms."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from chatd.application.presence import GRACE
from tests.cluster import Cluster, running_cluster
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

BOUND = 30.0  # seconds: the contract's bound for a crashed process's users to go offline


@pytest.fixture
async def cluster(settings) -> AsyncIterator[Cluster]:
    async with running_cluster(settings) as cluster:
        yield cluster


def presence_of(user_id: int):
    return lambda frame: frame["type"] == "presence" and frame["user"]["id"] == user_id


async def members_online(cluster: Cluster, room_id: int, token: str) -> list[dict[int, bool]]:
    """Who the members route says is online, asked of each process."""
    answers = []
    for http in (cluster.http_a, cluster.http_b):
        status, body = await http.call("GET", f"/api/rooms/{room_id}/members", token=token)
        assert status == 200, body
        answers.append({member["user"]["id"]: member["online"] for member in body["members"]})
    return answers


async def room_of(cluster: Cluster, count: int) -> tuple[int, list[str]]:
    """A room of `count` new users (the first owns it), their tokens."""
    tokens = await cluster.users(count)
    room_id = await cluster.http_a.create_room(tokens[0])
    for token in tokens[1:]:
        await cluster.http_b.join(token, room_id)
    return room_id, tokens


async def test_presence_crosses_processes_and_shows_in_the_members_route(cluster):
    room_id, (alice, bob) = await room_of(cluster, 2)
    watcher = await cluster.connect(cluster.a, alice)
    alice_id = watcher.ready["user"]["id"]
    bob_on_b = await cluster.connect(cluster.b, bob)
    bob_user = bob_on_b.ready["user"]
    online = await watcher.expect_match(presence_of(bob_user["id"]))
    assert online == {"type": "presence", "room_id": room_id, "user": bob_user, "online": True}
    assert (
        await members_online(cluster, room_id, alice)
        == [{alice_id: True, bob_user["id"]: True}] * 2
    )

    await bob_on_b.close()
    offline = await watcher.expect_match(presence_of(bob_user["id"]))
    assert offline == {**online, "online": False}
    assert (
        await members_online(cluster, room_id, alice)
        == [{alice_id: True, bob_user["id"]: False}] * 2
    )


async def test_offline_only_when_the_last_socket_closes_and_a_quick_reconnect_says_nothing(cluster):
    room_id, (alice, bob) = await room_of(cluster, 2)
    watcher = await cluster.connect(cluster.a, alice)
    bob_on_a = await cluster.connect(cluster.a, bob)
    bob_id = bob_on_a.ready["user"]["id"]
    bob_on_b = await cluster.connect(cluster.b, bob)
    assert (await watcher.expect_match(presence_of(bob_id)))["online"] is True

    await bob_on_a.close()
    await asyncio.sleep(GRACE + 1)  # past the grace: an offline would have been said by now
    assert [answer[bob_id] for answer in await members_online(cluster, room_id, alice)] == [
        True
    ] * 2
    await bob_on_b.close()
    assert (await watcher.expect_match(presence_of(bob_id)))["online"] is False

    again = await cluster.connect(cluster.a, bob)
    assert (await watcher.expect_match(presence_of(bob_id)))["online"] is True
    await again.close()
    elsewhere = await cluster.connect(cluster.b, bob)  # reconnects at once, to the other process
    await asyncio.sleep(GRACE + 1)
    sentinel = await elsewhere.request({"type": "send_message", "room_id": room_id, "body": "back"})
    seen = await watcher.frames_until(lambda f: f.get("message") == sentinel["message"])
    assert not [frame for frame in seen if presence_of(bob_id)(frame)], "no offline/online pair"
    await elsewhere.close()
    assert (await watcher.expect_match(presence_of(bob_id)))["online"] is False


async def test_a_killed_process_takes_its_users_offline_within_the_bound(cluster):
    room_id, (alice, bob) = await room_of(cluster, 2)
    watcher = await cluster.connect(cluster.b, alice)
    bob_on_a = await WsClient.connect(cluster.a.url, bob, session=cluster.session)
    bob_id = bob_on_a.ready["user"]["id"]
    assert (await watcher.expect_match(presence_of(bob_id)))["online"] is True

    loop = asyncio.get_running_loop()
    killed_at = loop.time()
    cluster.a.kill()
    offline = await watcher.expect_match(presence_of(bob_id), within=BOUND)
    took = loop.time() - killed_at
    print(f"\nSIGKILLed process: its user offline on the other process after {took:.1f} s")
    assert offline["online"] is False
    _, body = await cluster.http_b.call("GET", f"/api/rooms/{room_id}/members", token=alice)
    assert {m["user"]["id"]: m["online"] for m in body["members"]}[bob_id] is False


async def test_a_restart_does_not_flood_the_rooms_with_presence(cluster):
    _, (alice, bob, carol) = await room_of(cluster, 3)
    watcher = await cluster.connect(cluster.b, alice)
    bob_on_a = await cluster.connect(cluster.a, bob)
    carol_on_a = await cluster.connect(cluster.a, carol)
    bob_id, carol_id = bob_on_a.ready["user"]["id"], carol_on_a.ready["user"]["id"]
    await watcher.expect_match(presence_of(bob_id))
    await watcher.expect_match(presence_of(carol_id))

    stopping = asyncio.create_task(asyncio.to_thread(cluster.a.stop))
    assert await bob_on_a.closed(within=20) == 1001
    await cluster.connect(cluster.b, bob)  # bob comes back at once; carol does not
    assert await stopping == 0
    # What is checked here is that no pair is sent; carol's offline only has to come (the bound
    # itself is the SIGKILL test's), so this wait is generous for a loaded machine.
    seen = await watcher.frames_until(presence_of(carol_id), within=2 * BOUND)
    assert seen[-1]["online"] is False, "carol went offline when the stopped process expired"
    assert not [frame for frame in seen if presence_of(bob_id)(frame)], "bob was online all along"
