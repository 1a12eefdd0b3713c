"""Edits, deletes and read markers across two real `chatd serve` processes sharing PostgreSQL
and Redis: each edit and delete is a position of the room's seq stream, so it reaches live
sockets on the other process, a socket that was offline catches it up with `resume`, and after
any sequence of changes and reconnects what a client applied equals a fresh history fetch."""

import asyncio
import random
from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.cluster import Cluster, running_cluster
from tests.wsclient import WsClient

pytestmark = pytest.mark.slow

STREAM = {"new_message", "system_message", "message_edited", "message_deleted"}


@pytest.fixture
async def cluster(settings) -> AsyncIterator[Cluster]:
    async with running_cluster(settings) as cluster:
        yield cluster


class Applied:
    """What a client has applied of one room's stream, frame by frame, as a client would."""

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.position = 0  # the highest seq applied: what a reconnect resumes from
        self.messages: dict[int, dict] = {}

    def apply(self, frame: dict) -> None:
        if frame["type"] not in STREAM:
            return
        seq = frame["message"]["seq"] if "message" in frame else frame["seq"]
        assert seq == self.position + 1, (self.position, frame)  # ascending, no gap
        self.position = seq
        if "message" in frame:
            self.messages[seq] = _state(frame["message"])
        elif frame["type"] == "message_edited":
            target = self.messages[frame["target_seq"]]
            target.update(body=frame["body"], edited_at=frame["edited_at"])
        else:
            self.messages[frame["target_seq"]].update(body=None, deleted=True)

    async def read_until(self, client: WsClient, seq: int, within: float = 30) -> list[dict]:
        frames = []
        async with asyncio.timeout(within):
            while self.position < seq:
                frame = await client.recv(within)
                self.apply(frame)
                frames.append(frame)
        return [f for f in frames if f["type"] in STREAM]

    async def read_what_came(self, client: WsClient) -> None:
        """Apply the frames that have arrived by now (any number: a client cut at any point)."""
        while True:
            try:
                frame = await client.recv(0.05)
            except TimeoutError:
                return
            self.apply(frame)


def _state(message: dict) -> dict:
    return {k: message[k] for k in ("body", "edited_at", "deleted")}


async def rest(cluster: Cluster, index: int, method: str, path: str, token: str, json=None):
    http = (cluster.http_a, cluster.http_b)[index % 2]
    return await http.call(method, path, token=token, json=json)


async def full_history(cluster: Cluster, token: str, room_id: int) -> dict[int, dict]:
    status, body = await rest(cluster, 0, "GET", f"/api/rooms/{room_id}/messages?limit=200", token)
    assert status == 200 and len(body["messages"]) < 200, body
    return {m["seq"]: _state(m) for m in body["messages"]}


async def test_edit_and_delete_reach_the_other_process_and_a_resumed_socket(cluster, settings):
    alice, bob, carol = await cluster.users(3)
    room_id = await cluster.http_a.create_room(alice)
    await cluster.http_b.join(bob, room_id)  # seq 1
    await cluster.http_b.join(carol, room_id)  # seq 2
    alice_on_a = await cluster.connect(cluster.a, alice)
    bob_on_b = await cluster.connect(cluster.b, bob)
    offline = Applied(room_id)
    carol_on_a = await cluster.connect(cluster.a, carol, resume={room_id: 0})
    await offline.read_until(carol_on_a, 2)
    await carol_on_a.close()

    typo = await cluster.http_b.post(bob, room_id, "teh plan")  # seq 3
    secret = await cluster.http_b.post(bob, room_id, "the secret plan")  # seq 4
    status, edited = await cluster.http_a.call(
        "PATCH",
        f"/api/rooms/{room_id}/messages/{typo['seq']}",
        token=bob,
        json={"body": "the plan"},
    )
    assert status == 200, edited
    live = {"type": "message_edited", **edited}
    assert live == {
        "type": "message_edited",
        "room_id": room_id,
        "seq": 5,
        "target_seq": 3,
        "body": "the plan",
        "edited_at": edited["edited_at"],
    }
    assert await bob_on_b.expect("message_edited") == live
    assert await alice_on_a.expect("message_edited") == live
    # The owner deletes bob's message, on the other process.
    path = f"/api/rooms/{room_id}/messages/{secret['seq']}"
    assert (await cluster.http_b.call("DELETE", path, token=alice))[0] == 204
    deleted = {"type": "message_deleted", "room_id": room_id, "seq": 6, "target_seq": 4}
    assert await bob_on_b.expect("message_deleted") == deleted
    assert await alice_on_a.expect("message_deleted") == deleted

    # carol was offline for all of it: resuming, she gets every position in seq order.
    carol_on_b = await cluster.connect(cluster.b, carol, resume={room_id: offline.position})
    frames = await offline.read_until(carol_on_b, 6)
    assert [(f["type"], f.get("seq") or f["message"]["seq"]) for f in frames] == [
        ("new_message", 3),
        ("new_message", 4),
        ("message_edited", 5),
        ("message_deleted", 6),
    ]
    history = await full_history(cluster, carol, room_id)
    assert history[3] == {"body": "the plan", "edited_at": edited["edited_at"], "deleted": False}
    assert history[4] == {"body": None, "edited_at": None, "deleted": True}
    assert sorted(history) == [1, 2, 3, 4] and offline.messages == history

    conn = await asyncpg.connect(settings.database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM messages WHERE body LIKE '%secret%'") == 0
    finally:
        await conn.close()


async def test_after_random_changes_and_reconnects_the_client_equals_history(cluster):
    rng = random.Random(20261129)
    alice, bob, carol = await cluster.users(3)
    room_id = await cluster.http_a.create_room(alice)
    await cluster.http_a.join(bob, room_id)
    await cluster.http_a.join(carol, room_id)
    applied = Applied(room_id)
    client = await cluster.connect(cluster.b, carol, resume={room_id: 0})
    authors = {alice: "alice", bob: "bob"}
    alive: list[tuple[int, str]] = []  # (seq, author token) of messages not deleted
    reconnects = 0
    for step in range(120):
        action = rng.random()
        if action < 0.35 or not alive:
            token = rng.choice(list(authors))
            message = await (cluster.http_a, cluster.http_b)[step % 2].post(
                token, room_id, f"{authors[token]} says {step}"
            )
            alive.append((message["seq"], token))
        elif action < 0.65:
            seq, token = rng.choice(alive)
            status, body = await rest(
                cluster,
                step,
                "PATCH",
                f"/api/rooms/{room_id}/messages/{seq}",
                token,
                {"body": f"edit {step}"},
            )
            assert status == 200, body
        elif action < 0.85:
            seq, token = alive.pop(rng.randrange(len(alive)))
            actor = rng.choice([token, alice])  # the author, or the owner
            status, body = await rest(
                cluster, step, "DELETE", f"/api/rooms/{room_id}/messages/{seq}", actor
            )
            assert status == 204, body
        else:
            await applied.read_what_came(client)
            await client.close()
            server = (cluster.a, cluster.b)[reconnects % 2]
            client = await cluster.connect(server, carol, resume={room_id: applied.position})
            reconnects += 1
    last = await cluster.http_a.post(alice, room_id, "the end")
    await applied.read_until(client, last["seq"], within=60)
    assert reconnects >= 5
    assert applied.messages == await full_history(cluster, carol, room_id)


async def test_read_markers_reach_the_users_other_devices_and_move_unread(cluster):
    alice, bob = await cluster.users(2)
    room_id = await cluster.http_a.create_room(alice)
    await cluster.http_a.join(bob, room_id)  # seq 1
    for n in range(3):
        await cluster.http_a.post(alice, room_id, f"for bob {n}")  # seqs 2..4
    bob_on_a = await cluster.connect(cluster.a, bob)
    bob_on_b = await cluster.connect(cluster.b, bob)

    async def reading(index: int) -> tuple[int, int]:
        status, body = await rest(cluster, index, "GET", "/api/me/rooms", bob)
        assert status == 200, body
        [room] = body["rooms"]
        return room["last_read_seq"], room["unread"]

    assert await reading(1) == (0, 3)
    ack = await bob_on_a.request({"type": "read", "room_id": room_id, "seq": 3})
    assert (ack["type"], ack["room_id"], ack["seq"]) == ("ack", room_id, 3)
    assert await bob_on_b.expect("read") == {"type": "read", "room_id": room_id, "seq": 3}
    assert await reading(1) == (3, 1)

    status, body = await cluster.http_b.call(
        "POST", f"/api/rooms/{room_id}/read", token=bob, json={"seq": 4}
    )
    assert (status, body) == (200, {"room_id": room_id, "seq": 4})
    assert await bob_on_a.expect("read", seq=4) == {"type": "read", "room_id": room_id, "seq": 4}
    assert await reading(0) == (4, 0)

    # Backwards is a no-op (no frame): the next frame the other device gets is the next move.
    ack = await bob_on_b.request({"type": "read", "room_id": room_id, "seq": 1})
    assert (ack["type"], ack["seq"]) == ("ack", 4)
    await cluster.http_b.post(alice, room_id, "one more")  # seq 5
    assert await reading(0) == (4, 1)
    await bob_on_b.request({"type": "read", "room_id": room_id, "seq": 5})
    # bob_on_a got its own move (seq 3) too: every connection of the user is told.
    reads = await bob_on_a.frames_until(lambda f: f["type"] == "read" and f["seq"] == 5)
    assert [f["seq"] for f in reads if f["type"] == "read"] == [3, 5]
    # alice's sockets are not told of bob's marker.
    alice_on_a = await cluster.connect(cluster.a, alice)
    await bob_on_b.request({"type": "read", "room_id": room_id, "seq": 5})
    posted = await cluster.http_a.post(bob, room_id, "seen it")
    frames = await alice_on_a.frames_until(lambda f: f.get("type") == "new_message")
    assert [f["type"] for f in frames if f["type"] == "read"] == []
    assert frames[-1]["message"]["seq"] == posted["seq"]

    error = await bob_on_a.request({"type": "read", "room_id": room_id, "seq": -1})
    assert (error["type"], error["code"]) == ("error", "invalid_field")
    other = await cluster.http_a.create_room(alice, "other")
    error = await bob_on_a.request({"type": "read", "room_id": other, "seq": 1})
    assert (error["type"], error["code"]) == ("error", "not_a_member")
