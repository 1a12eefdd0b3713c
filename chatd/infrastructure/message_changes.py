"""Edits and deletes in PostgreSQL: one call of a plpgsql function each (sql/0004), which
changes the message and stores the event with the room's next seq under the room's lock."""

from datetime import datetime

import asyncpg

from chatd.domain.events import MessageDeleted, MessageEdited
from chatd.domain.message_rules import ChangeTarget
from chatd.infrastructure.outages import unavailable_on_outage

TARGET_SQL = """
    SELECT ms.role, m.kind, m.author_id, m.created_at, m.deleted_at IS NOT NULL AS deleted
    FROM rooms r
    LEFT JOIN memberships ms ON ms.room_id = r.id AND ms.user_id = $3
    LEFT JOIN messages m ON m.room_id = r.id AND m.seq = $2
    WHERE r.id = $1
"""

EDIT_SQL = "SELECT event_seq, event_at FROM edit_message($1, $2, $3, $4, $5)"
DELETE_SQL = "SELECT event_seq FROM delete_message($1, $2, $3, $4)"


@unavailable_on_outage
class PgMessageChanges:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def target(self, *, room_id: int, seq: int, actor_id: int) -> ChangeTarget:
        row = await self._pool.fetchrow(TARGET_SQL, room_id, seq, actor_id)
        if row is None:
            return ChangeTarget(False, None, None, None, None, False)
        return ChangeTarget(
            room_exists=True,
            role=row["role"],
            kind=row["kind"],
            author_id=row["author_id"],
            created_at=row["created_at"],
            deleted=bool(row["deleted"]),
        )

    async def edit(
        self,
        *,
        room_id: int,
        seq: int,
        editor_id: int,
        body: str,
        not_before: datetime | None,
    ) -> MessageEdited | None:
        row = await self._pool.fetchrow(EDIT_SQL, room_id, seq, editor_id, body, not_before)
        if row is None:
            return None
        return MessageEdited(
            room_id=room_id,
            seq=row["event_seq"],
            target_seq=seq,
            body=body,
            edited_at=row["event_at"],
        )

    async def delete(
        self, *, room_id: int, seq: int, actor_id: int, as_moderator: bool
    ) -> MessageDeleted | None:
        event_seq = await self._pool.fetchval(DELETE_SQL, room_id, seq, actor_id, as_moderator)
        if event_seq is None:
            return None
        return MessageDeleted(room_id=room_id, seq=event_seq, target_seq=seq)
