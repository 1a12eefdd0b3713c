"""Read markers in PostgreSQL: memberships.last_read_seq (sql/0005), and unread counts as range
counts of the partial index messages_unread_idx."""

import asyncpg

from chatd.domain.model import RoomReading
from chatd.infrastructure.outages import unavailable_on_outage
from chatd.infrastructure.rooms import ROOM_COLUMNS, row_to_room

# Only forwards, at most to the room's last seq. The outer SELECT reads the marker as it was
# before the UPDATE (one snapshot): moved_to is set when it moved, before is NULL for a
# non-member.
MOVE_SQL = """
    WITH moved AS (
        UPDATE memberships ms SET last_read_seq = least($3, r.last_seq)
        FROM rooms r
        WHERE r.id = ms.room_id AND ms.room_id = $1 AND ms.user_id = $2
          AND ms.last_read_seq < least($3, r.last_seq)
        RETURNING ms.last_read_seq
    )
    SELECT (SELECT last_read_seq FROM moved) AS moved_to,
           (SELECT last_read_seq FROM memberships WHERE room_id = $1 AND user_id = $2) AS before
"""

READINGS_SQL = f"""
    SELECT {ROOM_COLUMNS}, ms.last_read_seq,
           (SELECT count(*) FROM messages m
            WHERE m.room_id = ms.room_id AND m.seq > ms.last_read_seq
              AND m.kind = 'user' AND m.deleted_at IS NULL AND m.author_id <> ms.user_id)
           AS unread
    FROM memberships ms JOIN rooms r ON r.id = ms.room_id
    WHERE ms.user_id = $1
    ORDER BY r.id
"""


@unavailable_on_outage
class PgReadMarkers:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def move(self, *, room_id: int, user_id: int, seq: int) -> tuple[int, bool] | None:
        row = await self._pool.fetchrow(MOVE_SQL, room_id, user_id, seq)
        if row["moved_to"] is not None:
            return row["moved_to"], True
        if row["before"] is None:
            return None
        return row["before"], False

    async def readings(self, user_id: int) -> list[RoomReading]:
        rows = await self._pool.fetch(READINGS_SQL, user_id)
        return [
            RoomReading(
                room=row_to_room(row), last_read_seq=row["last_read_seq"], unread=row["unread"]
            )
            for row in rows
        ]
