"""Messages in PostgreSQL, numbered per room by the room row's last_seq counter."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

import asyncpg

from chatd.domain.errors import Forbidden, NotFound
from chatd.domain.events import MessageDeleted, MessageEdited, Position
from chatd.domain.model import Message, MessageKind, User
from chatd.infrastructure.accounts import row_to_user
from chatd.infrastructure.group_commit import GroupCommit
from chatd.infrastructure.outages import unavailable_on_outage

log = logging.getLogger(__name__)

NO_UPPER_BOUND = 2**63 - 1

MESSAGE_SELECT = """
    SELECT m.id, m.room_id, m.seq, m.kind, m.body, m.client_id, m.created_at,
           m.target_seq, m.edited_at, m.deleted_at,
           u.id AS author_id, u.username AS author_username, u.created_at AS author_created_at
    FROM messages m LEFT JOIN users u ON u.id = m.author_id
"""

# History: messages only (user and system, as they are now); the seqs of edits and deletes are
# gaps. Both pages are a range scan of messages_room_seq_key, whatever the size of the room.
PAGE_BELOW_SQL = f"""{MESSAGE_SELECT}
    WHERE m.room_id = $1 AND m.seq < $2 AND m.kind IN ('user', 'system')
    ORDER BY m.seq DESC
    LIMIT $3
"""

PAGE_ABOVE_SQL = f"""{MESSAGE_SELECT}
    WHERE m.room_id = $1 AND m.seq > $2 AND m.seq < $3 AND m.kind IN ('user', 'system')
    ORDER BY m.seq
    LIMIT $4
"""

# The stream: every position (messages, edits, deletes), for resume, replay and gap filling.
STREAM_SQL = f"""{MESSAGE_SELECT}
    WHERE m.room_id = $1 AND m.seq > $2
    ORDER BY m.seq
    LIMIT $3
"""

BY_IDS_SQL = f"{MESSAGE_SELECT} WHERE m.id = ANY ($1)"

LOCK_ROOM_SQL = "SELECT owner_id FROM rooms WHERE id = $1 FOR NO KEY UPDATE"


def rows_to_messages(rows: Iterable[asyncpg.Record]) -> list[Message]:
    """Messages from rows of MESSAGE_SELECT; each author is made once (a page of history is
    mostly a few people's)."""
    authors: dict[int, User] = {}
    return [row_to_message(row, authors) for row in rows]


def row_to_message(row: asyncpg.Record, authors: dict[int, User]) -> Message:
    """`authors`: the users already made for rows of the same result, by id."""
    author_id = row["author_id"]
    if author_id is None:
        author = None
    elif (author := authors.get(author_id)) is None:
        author = authors[author_id] = row_to_user(row, "author_")
    return Message(
        id=row["id"],
        room_id=row["room_id"],
        seq=row["seq"],
        kind=row["kind"],
        author=author,
        body=row["body"],
        client_id=row["client_id"],
        created_at=row["created_at"],
        edited_at=row["edited_at"],
        deleted=row["deleted_at"] is not None,
    )


def rows_to_positions(rows: Iterable[asyncpg.Record]) -> list[Position]:
    authors: dict[int, User] = {}
    return [row_to_position(row, authors) for row in rows]


def row_to_position(row: asyncpg.Record, authors: dict[int, User]) -> Position:
    """A row of the stream: a message, or the edit or delete event stored at that seq."""
    match row["kind"]:
        case "edit":
            return MessageEdited(
                room_id=row["room_id"],
                seq=row["seq"],
                target_seq=row["target_seq"],
                body=row["body"],
                edited_at=row["created_at"],
            )
        case "delete":
            return MessageDeleted(
                room_id=row["room_id"], seq=row["seq"], target_seq=row["target_seq"]
            )
    return row_to_message(row, authors)


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


@dataclass(frozen=True, slots=True)
class _Post:
    room_id: int
    author: User
    body: str
    client_id: str | None


STORE_SQL = "SELECT ord, status, id, seq, body, created_at FROM store_messages($1, $2, $3, $4)"


@unavailable_on_outage
class PgMessageRepo:
    def __init__(self, pool: asyncpg.Pool, *, max_batch: int = 1000) -> None:
        self._pool = pool
        # Concurrent posts of this process go to PostgreSQL together (group commit).
        self._posts: GroupCommit[_Post, tuple[Message, bool]] = GroupCommit(
            self._store, max_batch=max_batch
        )

    async def add(
        self, *, room_id: int, author: User, body: str, client_id: str | None
    ) -> tuple[Message, bool]:
        return await self._posts.submit(_Post(room_id, author, body, client_id))

    @property
    def batches(self) -> int:
        """How many round trips the posts so far took."""
        return self._posts.batches

    async def _store(self, posts: list[_Post]) -> list[tuple[Message, bool] | Exception]:
        """One statement, one transaction: see sql/0003_store_messages.sql."""
        rows = await self._pool.fetch(
            STORE_SQL,
            [p.room_id for p in posts],
            [p.author.id for p in posts],
            [p.body for p in posts],
            [p.client_id for p in posts],
        )
        results = [_stored(post, row) for post, row in zip(posts, rows, strict=True)]
        repeats = [row["id"] for row in rows if row["status"] == "repeat"]
        if repeats:  # rare (a client's retry): read those back as they are now, edits and all
            results = await self._as_now(results, repeats)
        return results

    async def _as_now(
        self, results: list[tuple[Message, bool] | Exception], repeats: list[int]
    ) -> list[tuple[Message, bool] | Exception]:
        """The repeated messages with their current body, edited_at and deleted. The batch is
        committed already: if this read fails, the repeats go back as the store saw them."""
        try:
            rows = await self._pool.fetch(BY_IDS_SQL, repeats)
        except Exception as error:
            log.warning("reading back %s repeated messages failed: %r", len(repeats), error)
            return results
        current = {message.id: message for message in rows_to_messages(rows)}
        return [_current(result, current) for result in results]

    async def history(
        self, room_id: int, *, before_seq: int | None, after_seq: int | None, limit: int
    ) -> list[Message]:
        upper = NO_UPPER_BOUND if before_seq is None else before_seq
        if after_seq is not None:
            rows = await self._pool.fetch(PAGE_ABOVE_SQL, room_id, after_seq, upper, limit)
        else:
            rows = reversed(await self._pool.fetch(PAGE_BELOW_SQL, room_id, upper, limit))
        return rows_to_messages(rows)

    async def list_after(self, room_id: int, after_seq: int, *, limit: int) -> list[Position]:
        rows = await self._pool.fetch(STREAM_SQL, room_id, after_seq, limit)
        return rows_to_positions(rows)

    async def last_seq(self, room_id: int) -> int:
        seq = await self._pool.fetchval("SELECT last_seq FROM rooms WHERE id = $1", room_id)
        return seq or 0


def _stored(post: _Post, row: asyncpg.Record) -> tuple[Message, bool] | Exception:
    status = row["status"]
    if status == "not_member":
        return Forbidden("only members of the room may do this", code="not_a_member")
    if status == "no_room":
        return NotFound(f"there is no room {post.room_id}", code="room_not_found")
    message = Message(
        id=row["id"],
        room_id=post.room_id,
        seq=row["seq"],
        kind="user",
        author=post.author,
        body=row["body"],
        client_id=post.client_id,
        created_at=row["created_at"],
        deleted=row["body"] is None,  # a repeat of a message deleted since
    )
    return message, status == "stored"


def _current(
    result: tuple[Message, bool] | Exception, current: dict[int, Message]
) -> tuple[Message, bool] | Exception:
    if isinstance(result, Exception) or result[1]:
        return result
    return current.get(result[0].id, result[0]), False
