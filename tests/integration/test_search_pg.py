"""Search on real PostgreSQL: a word among 20,000 messages of a room is found through the GIN
index (EXPLAIN shows it), pages by before_seq return every match exactly once, and what is
found is the current body (edits in, deletes out)."""

import pytest

from chatd.infrastructure.accounts import PgUserRepo
from chatd.infrastructure.message_changes import PgMessageChanges
from chatd.infrastructure.rooms import PgRoomRepo
from chatd.infrastructure.search import SEARCH_SQL, PgMessageSearch

COUNT = 20_000
EVERY = 97  # every 97th message has the word: 206 of them

# One statement: the room's counter moves by COUNT and the rows take those seqs.
FILL_SQL = """
    WITH bump AS (
        UPDATE rooms SET last_seq = last_seq + $3 WHERE id = $1 RETURNING last_seq - $3 AS base
    )
    INSERT INTO messages (room_id, seq, kind, author_id, body)
    SELECT $1, base + g, 'user', $2,
           CASE WHEN g % $4 <> 0 THEN 'plain hay number ' || g
                WHEN g % 2 = 0 THEN 'found the Needle at ' || g
                ELSE 'found the needle at ' || g END
    FROM bump, generate_series(1, $3) AS g
"""


@pytest.fixture
async def filled(pool):
    alice = await PgUserRepo(pool).add(username="alice", password_hash=b"x")
    room = await PgRoomRepo(pool).add(name="haystack", topic="", owner=alice)
    await pool.execute(FILL_SQL, room.id, alice.id, COUNT, EVERY)
    await pool.execute("VACUUM ANALYZE messages")
    return room.id, alice


async def test_the_search_goes_through_its_index(pool, filled):
    room_id, _ = filled
    async with pool.acquire() as conn:
        plan = "\n".join(
            r[0] for r in await conn.fetch(f"EXPLAIN {SEARCH_SQL}", room_id, "needle", 2**62, 50)
        )
    assert "messages_search_idx" in plan, plan


async def test_the_search_index_takes_words_as_they_are_stored(pool):
    """No GIN pending list (sql/0008): its merge, once the list fills, would stall one send
    under its room's lock for up to a second."""
    options = await pool.fetchval(
        "SELECT reloptions FROM pg_class WHERE relname = 'messages_search_idx'"
    )
    assert options == ["fastupdate=off"]


async def test_pages_return_every_match_once_newest_first(pool, filled):
    room_id, _ = filled
    search = PgMessageSearch(pool)
    found, before = [], None
    while page := await search.search(room_id, "NEEDLE", before_seq=before, limit=37):
        assert [m.seq for m in page] == sorted((m.seq for m in page), reverse=True)
        found += page
        before = page[-1].seq
    expected = [seq for seq in range(COUNT, 0, -1) if seq % EVERY == 0]
    assert [m.seq for m in found] == expected
    assert all("needle" in m.body.lower() for m in found)
    assert await search.search(room_id, "needle hay", before_seq=None, limit=5) == []  # all words
    assert len(await search.search(room_id, "needle or nothing", before_seq=None, limit=200)) == 200
    assert await search.search(room_id, '"at 97"', before_seq=None, limit=5) != []  # a phrase


async def test_search_sees_edits_and_not_deleted_messages(pool, filled):
    room_id, alice = filled
    changes = PgMessageChanges(pool)
    search = PgMessageSearch(pool)
    await changes.edit(
        room_id=room_id, seq=5, editor_id=alice.id, body="a rare zebra", not_before=None
    )
    await changes.delete(room_id=room_id, seq=EVERY, actor_id=alice.id, as_moderator=False)
    [zebra] = await search.search(room_id, "zebra", before_seq=None, limit=5)
    assert (zebra.seq, zebra.edited_at is not None) == (5, True)
    seqs = [m.seq for m in await search.search(room_id, "needle", before_seq=3 * EVERY, limit=5)]
    assert seqs == [2 * EVERY]  # the deleted one (seq 97) is gone
    # The edit event carries the words too, but search finds messages only.
    assert await search.search(room_id, "rare", before_seq=None, limit=5) == [zebra]
