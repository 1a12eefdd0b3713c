"""Messages in PostgreSQL, numbered per room by the room row's last_seq counter."""

import asyncpg

from chatd.domain.model import Message, MessageKind, User
from chatd.infrastructure.accounts import row_to_user
from chatd.infrastructure.outages import unavailable_on_outage

NO_UPPER_BOUND = 2**63 - 1

MESSAGE_SELECT = """
    SELECT m.id, m.room_id, m.seq, m.kind, m.body, m.client_id, m.created_at,
           u.id AS author_id, u.username AS author_username, u.created_at AS author_created_at
    FROM messages m LEFT JOIN users u ON u.id = m.author_id
"""

# Both pages are a range scan of messages_room_seq_key, whatever the size of the room.
PAGE_BELOW_SQL = f"""{MESSAGE_SELECT}
    WHERE m.room_id = $1 AND m.seq < $2
    ORDER BY m.seq DESC
    LIMIT $3
"""

PAGE_ABOVE_SQL = f"""{MESSAGE_SELECT}
    WHERE m.room_id = $1 AND m.seq > $2 AND m.seq < $3
    ORDER BY m.seq
    LIMIT $4
"""

LOCK_ROOM_SQL = "SELECT owner_id FROM rooms WHERE id = $1 FOR NO KEY UPDATE"


def row_to_message(row: asyncpg.Record) -> Message:
    return Message(
        id=row["id"],
        room_id=row["room_id"],
        seq=row["seq"],
        kind=row["kind"],
        author=row_to_user(row, "author_") if row["author_id"] is not None else None,
        body=row["body"],
        client_id=row["client_id"],
        created_at=row["created_at"],
    )


async def insert_message(
    conn: asyncpg.Connection,
    *,
    room_id: int,
    kind: MessageKind,
    author: User | None,
    body: str,
    client_id: str | None = None,
) -> Message:
    """Give the message the room's next seq and store it; the caller holds the transaction.

    The UPDATE takes the room row's lock until commit, so concurrent inserts into one room,
    from any process, get consecutive seqs; a rollback gives the seq back.
    """
    seq = await conn.fetchval(
        "UPDATE rooms SET last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq", room_id
    )
    row = await conn.fetchrow(
        "INSERT INTO messages (room_id, seq, kind, author_id, body, client_id) "
        "VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, created_at",
        room_id,
        seq,
        kind,
        author.id if author else None,
        body,
        client_id,
    )
    return Message(
        id=row["id"],
        room_id=room_id,
        seq=seq,
        kind=kind,
        author=author,
        body=body,
        client_id=client_id,
        created_at=row["created_at"],
    )


@unavailable_on_outage
class PgMessageRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(
        self, *, room_id: int, author: User, body: str, client_id: str | None
    ) -> tuple[Message, bool]:
        async with self._pool.acquire() as conn, conn.transaction():
            if client_id is not None:
                # Under the room's lock a concurrent post of the same client_id has either
                # committed (we find it) or not started; no seq is taken for a repeat.
                await conn.execute(LOCK_ROOM_SQL, room_id)
                row = await conn.fetchrow(
                    f"{MESSAGE_SELECT} WHERE m.room_id = $1 AND m.author_id = $2 "
                    "AND m.client_id = $3",
                    room_id,
                    author.id,
                    client_id,
                )
                if row is not None:
                    return row_to_message(row), False
            message = await insert_message(
                conn, room_id=room_id, kind="user", author=author, body=body, client_id=client_id
            )
            return message, True

    async def history(
        self, room_id: int, *, before_seq: int | None, after_seq: int | None, limit: int
    ) -> list[Message]:
        upper = NO_UPPER_BOUND if before_seq is None else before_seq
        if after_seq is not None:
            rows = await self._pool.fetch(PAGE_ABOVE_SQL, room_id, after_seq, upper, limit)
        else:
            rows = reversed(await self._pool.fetch(PAGE_BELOW_SQL, room_id, upper, limit))
        return [row_to_message(row) for row in rows]

    async def list_after(self, room_id: int, after_seq: int, *, limit: int) -> list[Message]:
        return await self.history(room_id, before_seq=None, after_seq=after_seq, limit=limit)

    async def last_seq(self, room_id: int) -> int:
        seq = await self._pool.fetchval("SELECT last_seq FROM rooms WHERE id = $1", room_id)
        return seq or 0
