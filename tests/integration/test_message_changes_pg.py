"""Edits, deletes and read markers on real PostgreSQL: the functions of sql/0004 take the
room's next seq for their event in the same transaction as the change, guard the same rules
the use cases decide, and leave no trace of a deleted body; markers move only forwards and
unread is a range count of messages_unread_idx."""

import asyncio
from datetime import timedelta

import pytest

from chatd.domain.events import MessageDeleted, MessageEdited
from chatd.domain.model import User
from chatd.infrastructure.accounts import PgUserRepo
from chatd.infrastructure.message_changes import PgMessageChanges
from chatd.infrastructure.messages import PgMessageRepo
from chatd.infrastructure.read_markers import READINGS_SQL, PgReadMarkers
from chatd.infrastructure.rooms import PgRoomRepo


@pytest.fixture
async def world(pool):
    users = PgUserRepo(pool)
    alice = await users.add(username="alice", password_hash=b"x")
    bob = await users.add(username="bob", password_hash=b"x")
    rooms, messages = PgRoomRepo(pool), PgMessageRepo(pool)
    room = await rooms.add(name="general", topic="", owner=alice)
    await rooms.add_member(room_id=room.id, user=bob)  # seq 1
    return {
        "pool": pool,
        "alice": alice,
        "bob": bob,
        "room": room.id,
        "rooms": rooms,
        "messages": messages,
        "changes": PgMessageChanges(pool),
        "markers": PgReadMarkers(pool),
    }


async def post(world, author: User, body: str) -> int:
    message, _ = await world["messages"].add(
        room_id=world["room"], author=author, body=body, client_id=None
    )
    return message.seq


async def test_an_edit_takes_the_next_seq_and_history_shows_the_current_body(world):
    room, bob, changes = world["room"], world["bob"], world["changes"]
    seq = await post(world, bob, "helo")
    edited = await changes.edit(
        room_id=room, seq=seq, editor_id=bob.id, body="hello", not_before=None
    )
    assert edited == MessageEdited(room, seq + 1, seq, "hello", edited.edited_at)
    assert await world["messages"].last_seq(room) == seq + 1
    history = await world["messages"].history(room, before_seq=None, after_seq=None, limit=50)
    assert [m.seq for m in history] == [1, seq]  # the edit's seq is a gap in history
    assert (history[-1].body, history[-1].edited_at, history[-1].deleted) == (
        "hello",
        edited.edited_at,
        False,
    )
    stream = await world["messages"].list_after(room, seq - 1, limit=10)
    assert stream == [history[-1], edited]


async def test_the_guard_refuses_what_the_rules_refuse_and_changes_nothing(world):
    room, alice, bob, changes = world["room"], world["alice"], world["bob"], world["changes"]
    seq = await post(world, bob, "mine")
    last = await world["messages"].last_seq(room)
    assert (
        await changes.edit(room_id=room, seq=seq, editor_id=alice.id, body="x", not_before=None)
        is None
    )
    assert (
        await changes.edit(room_id=room, seq=1, editor_id=bob.id, body="x", not_before=None) is None
    )
    created = (await world["messages"].list_after(room, seq - 1, limit=1))[0].created_at
    later = created + timedelta(seconds=1)
    assert (
        await changes.edit(room_id=room, seq=seq, editor_id=bob.id, body="x", not_before=later)
        is None
    )
    # A member deleting someone else's message, as author or claiming to be a moderator.
    assert (
        await changes.delete(room_id=room, seq=seq, actor_id=alice.id, as_moderator=False) is None
    )
    carol = await PgUserRepo(world["pool"]).add(username="carol", password_hash=b"x")
    await world["rooms"].add_member(room_id=room, user=carol)
    last = await world["messages"].last_seq(room)
    assert await changes.delete(room_id=room, seq=seq, actor_id=carol.id, as_moderator=True) is None
    assert await world["messages"].last_seq(room) == last
    [message] = [
        m
        for m in await world["messages"].history(room, before_seq=None, after_seq=None, limit=9)
        if m.seq == seq
    ]
    assert (message.body, message.edited_at, message.deleted) == ("mine", None, False)


async def test_a_delete_leaves_a_tombstone_and_the_body_nowhere(world):
    pool, room, alice, bob, changes = (
        world[k] for k in ("pool", "room", "alice", "bob", "changes")
    )
    seq = await post(world, bob, "my secret plan")
    for body in ("my secret plan v2", "my secret plan v3"):
        await changes.edit(room_id=room, seq=seq, editor_id=bob.id, body=body, not_before=None)
    # The owner deletes it, as a moderator.
    deleted = await changes.delete(room_id=room, seq=seq, actor_id=alice.id, as_moderator=True)
    assert deleted == MessageDeleted(room, seq + 3, seq)
    assert await pool.fetchval("SELECT count(*) FROM messages WHERE body LIKE '%secret%'") == 0
    [tombstone] = await world["messages"].history(
        room, before_seq=seq + 1, after_seq=seq - 1, limit=5
    )
    assert (tombstone.body, tombstone.deleted, tombstone.author) == (None, True, bob)
    stream = await world["messages"].list_after(room, seq, limit=10)
    assert [type(p).__name__ for p in stream] == [
        "MessageEdited",
        "MessageEdited",
        "MessageDeleted",
    ]
    assert [p.body for p in stream[:2]] == [None, None]
    # Deleted already: nothing more happens, whoever asks.
    assert await changes.delete(room_id=room, seq=seq, actor_id=bob.id, as_moderator=False) is None
    assert (
        await changes.edit(room_id=room, seq=seq, editor_id=bob.id, body="x", not_before=None)
        is None
    )
    assert await world["messages"].last_seq(room) == seq + 3


async def test_a_repeated_client_id_returns_the_message_as_it_is_now(world):
    room, bob = world["room"], world["bob"]
    first, _ = await world["messages"].add(room_id=room, author=bob, body="a", client_id="c1")
    edited = await world["changes"].edit(
        room_id=room, seq=first.seq, editor_id=bob.id, body="b", not_before=None
    )
    again, created = await world["messages"].add(room_id=room, author=bob, body="a", client_id="c1")
    assert not created and (again.seq, again.body, again.edited_at) == (
        first.seq,
        "b",
        edited.edited_at,
    )
    await world["changes"].delete(room_id=room, seq=first.seq, actor_id=bob.id, as_moderator=False)
    again, created = await world["messages"].add(room_id=room, author=bob, body="a", client_id="c1")
    assert not created and (again.body, again.deleted) == (None, True)


async def test_concurrent_edits_deletes_and_posts_keep_the_seq_gapless(world):
    room, bob, changes = world["room"], world["bob"], world["changes"]
    targets = [await post(world, bob, f"m{n}") for n in range(10)]
    calls = []
    for n, seq in enumerate(targets):
        calls.append(
            changes.edit(room_id=room, seq=seq, editor_id=bob.id, body=f"e{n}", not_before=None)
        )
        calls.append(changes.delete(room_id=room, seq=seq, actor_id=bob.id, as_moderator=False))
        calls.append(world["messages"].add(room_id=room, author=bob, body=f"p{n}", client_id=None))
    await asyncio.gather(*calls)
    seqs = [
        row["seq"]
        for row in await world["pool"].fetch(
            "SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq", room
        )
    ]
    assert seqs == list(range(1, await world["messages"].last_seq(room) + 1))
    assert await world["pool"].fetchval("SELECT count(*) FROM messages WHERE kind = 'delete'") == 10


async def test_read_markers_move_forwards_and_count_unread(world):
    pool, room, alice, bob, markers = (
        world[k] for k in ("pool", "room", "alice", "bob", "markers")
    )
    # bob joined at seq 1: he starts having read everything before his membership.
    assert (
        await pool.fetchval("SELECT last_read_seq FROM memberships WHERE user_id = $1", bob.id) == 0
    )
    seqs = [await post(world, alice, f"a{n}") for n in range(5)]
    await post(world, bob, "own messages are not unread")
    await world["changes"].delete(room_id=room, seq=seqs[0], actor_id=alice.id, as_moderator=False)
    [reading] = await markers.readings(bob.id)
    assert (reading.room.id, reading.last_read_seq, reading.unread) == (room, 0, 4)
    assert await markers.move(room_id=room, user_id=bob.id, seq=seqs[2]) == (seqs[2], True)
    assert await markers.move(room_id=room, user_id=bob.id, seq=seqs[1]) == (seqs[2], False)
    [reading] = await markers.readings(bob.id)
    assert (reading.last_read_seq, reading.unread) == (seqs[2], 2)
    last = await world["messages"].last_seq(room)
    assert await markers.move(room_id=room, user_id=bob.id, seq=10**15) == (last, True)
    assert (await markers.readings(bob.id))[0].unread == 0
    carol = await PgUserRepo(pool).add(username="carol", password_hash=b"x")
    assert await markers.move(room_id=room, user_id=carol.id, seq=1) is None
    await world["rooms"].add_member(room_id=room, user=carol)
    [reading] = await markers.readings(carol.id)  # joined now: history before it is not unread
    assert (reading.last_read_seq, reading.unread) == (last, 0)


async def test_unread_is_an_index_range_count(world):
    pool, room, alice, bob = (world[k] for k in ("pool", "room", "alice", "bob"))
    await pool.execute(
        "SELECT store_messages(array_fill($1::bigint, ARRAY[5000]), "
        "array_fill($2::bigint, ARRAY[5000]), array_fill('x'::text, ARRAY[5000]), "
        "array_fill(NULL::text, ARRAY[5000]))",
        room,
        alice.id,
    )
    await pool.execute("VACUUM ANALYZE messages")  # as autovacuum would
    async with pool.acquire() as conn:
        plan = "\n".join(r[0] for r in await conn.fetch(f"EXPLAIN {READINGS_SQL}", bob.id))
    assert "messages_unread_idx" in plan, plan
    [reading] = await PgReadMarkers(pool).readings(bob.id)
    assert reading.unread == 5000
