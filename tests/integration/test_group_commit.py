"""Group commit on real PostgreSQL and Redis: concurrent posts go out together, each room's seq
stays gapless across processes, and a batch succeeds or fails as a whole."""

import asyncio

import asyncpg
import pytest

from chatd.domain.errors import Forbidden, NotFound
from chatd.infrastructure.accounts import PgUserRepo
from chatd.infrastructure.messages import PgMessageRepo
from chatd.infrastructure.rate_limits import RedisRateLimiter
from chatd.infrastructure.rooms import PgRoomRepo


@pytest.fixture
async def world(pool):
    users = PgUserRepo(pool)
    alice = await users.add(username="alice", password_hash=b"x")
    bob = await users.add(username="bob", password_hash=b"x")
    room = await PgRoomRepo(pool).add(name="busy", topic="", owner=alice)
    return alice, bob, room


def posts(repo: PgMessageRepo, room_id: int, author, count: int, **fields):
    return [
        repo.add(room_id=room_id, author=author, body=f"m{n}", client_id=None, **fields)
        for n in range(count)
    ]


async def test_two_processes_posting_at_once_get_a_gapless_seq(database_url, world):
    alice, _, room = world
    pool_a = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    pool_b = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        a, b = PgMessageRepo(pool_a), PgMessageRepo(pool_b)
        results = await asyncio.gather(
            *posts(a, room.id, alice, 300), *posts(b, room.id, alice, 300)
        )
        assert sorted(message.seq for message, _ in results) == list(range(1, 601))
        assert a.batches < 300 and b.batches < 300, "posts went out together"
        rows = await pool_a.fetch("SELECT seq FROM messages WHERE room_id = $1", room.id)
        assert sorted(row["seq"] for row in rows) == list(range(1, 601))
    finally:
        await pool_a.close()
        await pool_b.close()


async def test_a_batch_that_fails_fails_every_post_in_it_and_stores_none(pool, world):
    alice, _, room = world
    repo = PgMessageRepo(pool)
    fine = posts(repo, room.id, alice, 3)
    broken = repo.add(room_id=room.id, author=alice, body="x" * 4001, client_id=None)
    results = await asyncio.gather(*fine, broken, return_exceptions=True)
    assert repo.batches == 1
    assert all(isinstance(r, asyncpg.CheckViolationError) for r in results), results
    assert await pool.fetchval("SELECT count(*) FROM messages") == 0
    assert await repo.last_seq(room.id) == 0, "no seq was taken"


async def test_a_client_id_repeated_inside_one_batch_stores_one_message(pool, world):
    alice, _, room = world
    repo = PgMessageRepo(pool)
    results = await asyncio.gather(
        *(repo.add(room_id=room.id, author=alice, body=f"try {n}", client_id="k") for n in range(5))
    )
    assert repo.batches == 1
    assert [created for _, created in results] == [True, False, False, False, False]
    assert {message.id for message, _ in results} == {results[0][0].id}
    assert {message.body for message, _ in results} == {"try 0"}
    assert await repo.last_seq(room.id) == 1


async def test_refusals_inside_a_batch_are_each_posts_own(pool, world):
    alice, bob, room = world
    repo = PgMessageRepo(pool)
    results = await asyncio.gather(
        repo.add(room_id=room.id, author=alice, body="in", client_id=None),
        repo.add(room_id=room.id, author=bob, body="not a member", client_id=None),
        repo.add(room_id=room.id + 1, author=alice, body="no room", client_id=None),
        repo.add(room_id=room.id, author=alice, body="in too", client_id=None),
        return_exceptions=True,
    )
    assert repo.batches == 1
    assert [type(r).__name__ for r in results] == ["tuple", "Forbidden", "NotFound", "tuple"]
    assert isinstance(results[1], Forbidden) and results[1].code == "not_a_member"
    assert isinstance(results[2], NotFound) and results[2].code == "room_not_found"
    assert [results[0][0].seq, results[3][0].seq] == [1, 2]


async def test_rate_limits_counted_together_stay_exact(redis_client):
    limiter = RedisRateLimiter(redis_client, limit=3, window_seconds=10)
    waits = await asyncio.gather(*(limiter.acquire("send:1") for _ in range(5)))
    assert waits[:3] == [0, 0, 0] and all(0 < w <= 10 for w in waits[3:])
    assert await redis_client.ttl("chatd:rate:send:1") > 0
