"""Direct-message rooms in PostgreSQL: one per pair of users, whoever asks first."""

import asyncpg

from chatd.domain.model import Room, User
from chatd.infrastructure.outages import unavailable_on_outage
from chatd.infrastructure.rooms import ROOM_COLUMNS, row_to_room

FIND_SQL = f"""
    SELECT {ROOM_COLUMNS}
    FROM dm_pairs d JOIN rooms r ON r.id = d.room_id
    WHERE d.low_user_id = $1 AND d.high_user_id = $2
"""


class _Lost(Exception):
    """Another transaction made the pair's room first: roll ours back."""


def dm_name(first: User, second: User) -> str:
    """What a DM is called, the same for both: the two usernames in user id order."""
    low, high = sorted((first, second), key=lambda user: user.id)
    return f"{low.username} & {high.username}"


@unavailable_on_outage
class PgDirectRoomRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def find_dm(self, user_id: int, other_id: int) -> Room | None:
        row = await self._pool.fetchrow(FIND_SQL, *sorted((user_id, other_id)))
        return row_to_room(row) if row else None

    async def add_dm(self, *, creator: User, other: User) -> tuple[Room, bool]:
        """The room, both members, and the pair in one transaction. A concurrent creation of the
        same pair waits on the pair's key: whichever commits first wins, the other rolls back
        its room and reads the winner's."""
        pair = sorted((creator.id, other.id))
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                row = await conn.fetchrow(
                    "INSERT INTO rooms (name, topic, owner_id, kind, private) "
                    "VALUES ($1, '', $2, 'dm', true) "
                    "RETURNING id, name, topic, owner_id, created_at, kind, private, "
                    "2 AS member_count",
                    dm_name(creator, other),
                    creator.id,
                )
                won = await conn.fetchval(
                    "INSERT INTO dm_pairs (low_user_id, high_user_id, room_id) "
                    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
                    *pair,
                    row["id"],
                )
                if not won:
                    raise _Lost
                await conn.execute(
                    "INSERT INTO memberships (room_id, user_id, role) "
                    "SELECT $1, unnest($2::bigint[]), 'member'",
                    row["id"],
                    pair,
                )
            return row_to_room(row), True
        except _Lost:
            row = await self._pool.fetchrow(FIND_SQL, *pair)
            return row_to_room(row), False
