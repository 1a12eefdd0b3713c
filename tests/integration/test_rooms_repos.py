"""The room and message repositories on real PostgreSQL: seq under concurrency, idempotent
send, membership with its system messages in one transaction, history pages, the index."""

import asyncio

import asyncpg
import pytest

from chatd.domain.model import User
from chatd.infrastructure.accounts import PgUserRepo
from chatd.infrastructure.messages import PAGE_ABOVE_SQL, PAGE_BELOW_SQL, PgMessageRepo
from chatd.infrastructure.rooms import PgRoomRepo


@pytest.fixture
def rooms(pool) -> PgRoomRepo:
    return PgRoomRepo(pool)


@pytest.fixture
def messages(pool) -> PgMessageRepo:
    return PgMessageRepo(pool)


@pytest.fixture
async def alice(pool) -> User:
    return await PgUserRepo(pool).add(username="alice", password_hash=b"x")


@pytest.fixture
async def bob(pool) -> User:
    return await PgUserRepo(pool).add(username="bob", password_hash=b"x")


async def stored_seqs(pool, room_id: int) -> list[int]:
    rows = await pool.fetch("SELECT seq FROM messages WHERE room_id = $1 ORDER BY seq", room_id)
    return [row["seq"] for row in rows]


async def test_create_get_members(rooms, alice, bob):
    room = await rooms.add(name="general", topic="", owner=alice)
    assert await rooms.get(room.id) == room and room.member_count == 1
    assert await rooms.get(room.id + 1) is None
    [owner] = await rooms.members(room.id)
    assert (owner.user, owner.role, owner.online) == (alice, "owner", False)
    assert await rooms.is_member(room.id, alice.id) and not await rooms.is_member(room.id, bob.id)
    assert await rooms.room_ids_of(alice.id) == [room.id] and await rooms.room_ids_of(bob.id) == []


async def test_list_page_newest_first_with_joined(rooms, alice, bob):
    ids = [(await rooms.add(name=f"r{n}", topic="", owner=alice)).id for n in range(3)]
    await rooms.add_member(room_id=ids[0], user=bob)
    page = await rooms.list_page(viewer_id=bob.id, limit=2, before_id=None)
    assert [(room.id, joined) for room, joined in page] == [(ids[2], False), (ids[1], False)]
    page = await rooms.list_page(viewer_id=bob.id, limit=2, before_id=ids[1])
    assert [(room.id, room.member_count, joined) for room, joined in page] == [(ids[0], 2, True)]


async def test_concurrent_joins_make_one_membership_and_one_system_message(pool, rooms, alice, bob):
    room = await rooms.add(name="general", topic="", owner=alice)
    results = await asyncio.gather(
        *[rooms.add_member(room_id=room.id, user=bob) for _ in range(10)]
    )
    [joined] = [message for message in results if message is not None]
    assert (joined.kind, joined.seq, joined.author, joined.body) == (
        "system",
        1,
        None,
        "bob joined",
    )
    assert [m.user for m in await rooms.members(room.id)] == [alice, bob]
    assert await stored_seqs(pool, room.id) == [1]


async def test_leave_removes_the_membership_and_posts_in_one_go(pool, rooms, messages, alice, bob):
    room = await rooms.add(name="general", topic="", owner=alice)
    await rooms.add_member(room_id=room.id, user=bob)
    left = await rooms.remove_member(room_id=room.id, user=bob)
    assert (left.seq, left.body) == (2, "bob left")
    assert await rooms.remove_member(room_id=room.id, user=bob) is None
    assert not await rooms.is_member(room.id, bob.id)
    assert await messages.last_seq(room.id) == 2


async def test_the_owner_who_left_and_rejoins_is_owner_again(rooms, alice):
    room = await rooms.add(name="general", topic="", owner=alice)
    await rooms.remove_member(room_id=room.id, user=alice)
    await rooms.add_member(room_id=room.id, user=alice)
    assert [m.role for m in await rooms.members(room.id)] == ["owner"]


async def test_200_concurrent_posts_get_seqs_1_to_200(pool, rooms, messages, alice):
    room = await rooms.add(name="busy", topic="", owner=alice)
    posted = await asyncio.gather(
        *[
            messages.add(room_id=room.id, author=alice, body=f"m{n}", client_id=None)
            for n in range(200)
        ]
    )
    assert sorted(message.seq for message, _ in posted) == list(range(1, 201))
    assert await stored_seqs(pool, room.id) == list(range(1, 201))
    assert await messages.last_seq(room.id) == 200


async def test_concurrent_posts_with_one_client_id_store_one_row(pool, rooms, messages, alice):
    room = await rooms.add(name="retries", topic="", owner=alice)
    results = await asyncio.gather(
        *[
            messages.add(room_id=room.id, author=alice, body=f"try {n}", client_id="same")
            for n in range(20)
        ]
    )
    first = next(message for message, created in results if created)
    assert sum(created for _, created in results) == 1
    assert all(message == first for message, _ in results)
    assert await stored_seqs(pool, room.id) == [first.seq] == [1]
    after, created = await messages.add(room_id=room.id, author=alice, body="x", client_id=None)
    assert created and after.seq == 2, "a repeat takes no seq"


async def test_a_failed_insert_gives_its_seq_back(pool, rooms, messages, alice):
    room = await rooms.add(name="general", topic="", owner=alice)
    with pytest.raises(asyncpg.CheckViolationError):
        await messages.add(room_id=room.id, author=alice, body="", client_id=None)
    message, _ = await messages.add(room_id=room.id, author=alice, body="ok", client_id=None)
    assert message.seq == 1 and await stored_seqs(pool, room.id) == [1]


async def test_client_ids_are_per_author_and_room(rooms, messages, alice, bob):
    one = await rooms.add(name="one", topic="", owner=alice)
    two = await rooms.add(name="two", topic="", owner=alice)
    await rooms.add_member(room_id=one.id, user=bob)
    results = [
        await messages.add(room_id=room_id, author=author, body="hi", client_id="c")
        for room_id, author in [(one.id, alice), (one.id, bob), (two.id, alice)]
    ]
    assert all(created for _, created in results)


async def test_pagination_walks_1000_messages_both_ways(pool, rooms, messages, alice):
    room = await rooms.add(name="archive", topic="", owner=alice)
    await pool.execute(
        """
        WITH bumped AS (UPDATE rooms SET last_seq = 995 WHERE id = $1 RETURNING id)
        INSERT INTO messages (room_id, seq, kind, author_id, body)
        SELECT bumped.id, n, 'user', $2, 'bulk ' || n FROM bumped, generate_series(1, 995) n
        """,
        room.id,
        alice.id,
    )
    for n in range(5):
        await messages.add(room_id=room.id, author=alice, body=f"live {n}", client_id=f"c{n}")

    backwards: list[int] = []
    page = await messages.history(room.id, before_seq=None, after_seq=None, limit=37)
    while page:
        backwards = [m.seq for m in page] + backwards
        page = await messages.history(room.id, before_seq=page[0].seq, after_seq=None, limit=37)
    forwards: list[int] = []
    while page := await messages.list_after(room.id, forwards[-1] if forwards else 0, limit=41):
        forwards += [m.seq for m in page]
    assert backwards == forwards == list(range(1, 1001))
    latest = await messages.history(room.id, before_seq=None, after_seq=None, limit=3)
    assert [(m.seq, m.body, m.author) for m in latest] == [
        (998, "live 2", alice),
        (999, "live 3", alice),
        (1000, "live 4", alice),
    ]


async def test_history_is_served_by_the_room_seq_index(pool, rooms, alice):
    """On 20,000 messages in 20 rooms, freshly analysed, with the planner left alone."""
    room_ids = [(await rooms.add(name=f"r{n}", topic="", owner=alice)).id for n in range(20)]
    await pool.execute(
        """
        INSERT INTO messages (room_id, seq, kind, author_id, body)
        SELECT r, n, 'user', $2, repeat('chat ', 20) || n
        FROM unnest($1::bigint[]) r, generate_series(1, 1000) n
        """,
        room_ids,
        alice.id,
    )
    await pool.execute("UPDATE rooms SET last_seq = 1000")
    await pool.execute("ANALYZE messages")
    room_id = room_ids[7]
    plans = {
        "latest": await explain(pool, PAGE_BELOW_SQL, room_id, 2**63 - 1, 50),
        "before_seq": await explain(pool, PAGE_BELOW_SQL, room_id, 500, 50),
        "after_seq": await explain(pool, PAGE_ABOVE_SQL, room_id, 500, 2**63 - 1, 50),
    }
    for name, plan in plans.items():
        assert "Index Scan" in plan and "using messages_room_seq_key on messages" in plan, plan
        assert "Seq Scan on messages" not in plan and "Sort" not in plan, (name, plan)


async def explain(pool, sql: str, *args) -> str:
    rows = await pool.fetch(f"EXPLAIN {sql}", *args)
    return "\n".join(row[0] for row in rows)
