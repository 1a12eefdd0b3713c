"""Rooms and memberships in PostgreSQL."""

import asyncpg

from chatd.domain.errors import NotFound
from chatd.domain.model import Member, Message, Room, Standing, User
from chatd.domain.permissions import check_join
from chatd.infrastructure.accounts import row_to_user
from chatd.infrastructure.messages import LOCK_ROOM_SQL, NO_UPPER_BOUND, insert_message
from chatd.infrastructure.outages import unavailable_on_outage

ROOM_COLUMNS = """
    r.id, r.name, r.topic, r.owner_id, r.created_at, r.kind, r.private,
    (SELECT count(*) FROM memberships c WHERE c.room_id = r.id) AS member_count
"""

# What the viewer ($1) may see in a listing: public rooms, and the private ones they are a member
# of, own or are invited to (chatd.domain.permissions.can_see); never a DM.
LISTED_SQL = """
    r.kind = 'room' AND (
        NOT r.private OR r.owner_id = $1
        OR EXISTS (SELECT 1 FROM memberships j WHERE j.room_id = r.id AND j.user_id = $1)
        OR EXISTS (SELECT 1 FROM room_invitations i WHERE i.room_id = r.id AND i.user_id = $1))
"""


def row_to_room(row: asyncpg.Record) -> Room:
    return Room(
        id=row["id"],
        name=row["name"],
        topic=row["topic"],
        owner_id=row["owner_id"],
        created_at=row["created_at"],
        member_count=row["member_count"],
        kind=row["kind"],
        private=row["private"],
    )


STANDING_SQL = """
    SELECT u.id, u.username, u.created_at, m.role,
           EXISTS (SELECT 1 FROM room_invitations i WHERE i.room_id = $1 AND i.user_id = u.id)
           AS invited,
           EXISTS (SELECT 1 FROM room_bans b WHERE b.room_id = $1 AND b.user_id = u.id)
           AS banned
    FROM users u LEFT JOIN memberships m ON m.room_id = $1 AND m.user_id = u.id
    WHERE u.id = $2
"""


async def standing(
    conn: asyncpg.Connection | asyncpg.Pool, room_id: int, user_id: int
) -> Standing | None:
    """The user's role, invitation and ban in the room; None if there is no such user."""
    row = await conn.fetchrow(STANDING_SQL, room_id, user_id)
    if row is None:
        return None
    return Standing(
        user=row_to_user(row), role=row["role"], invited=row["invited"], banned=row["banned"]
    )


async def lock_room(conn: asyncpg.Connection, room_id: int) -> Room:
    """The room, its row locked until the transaction ends (every write that changes a room's
    members or messages takes this lock first); NotFound if there is none."""
    row = await conn.fetchrow(
        f"SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1 FOR NO KEY UPDATE OF r", room_id
    )
    if row is None:
        raise NotFound(f"there is no room {room_id}", code="room_not_found")
    return row_to_room(row)


@unavailable_on_outage
class PgRoomRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, *, name: str, topic: str, owner: User, private: bool = False) -> Room:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO rooms (name, topic, owner_id, private) VALUES ($1, $2, $3, $4) "
                "RETURNING id, name, topic, owner_id, created_at, kind, private, "
                "1 AS member_count",
                name,
                topic,
                owner.id,
                private,
            )
            await conn.execute(
                "INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, 'owner')",
                row["id"],
                owner.id,
            )
        return row_to_room(row)

    async def get(self, room_id: int) -> Room | None:
        row = await self._pool.fetchrow(
            f"SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1", room_id
        )
        return row_to_room(row) if row else None

    async def standing(self, room_id: int, user_id: int) -> Standing | None:
        return await standing(self._pool, room_id, user_id)

    async def list_page(
        self, *, viewer_id: int, limit: int, before_id: int | None
    ) -> list[tuple[Room, bool]]:
        rows = await self._pool.fetch(
            f"""
            SELECT {ROOM_COLUMNS},
                   EXISTS (SELECT 1 FROM memberships j WHERE j.room_id = r.id AND j.user_id = $1)
                   AS joined
            FROM rooms r
            WHERE r.id < $2 AND {LISTED_SQL}
            ORDER BY r.id DESC
            LIMIT $3
            """,
            viewer_id,
            NO_UPPER_BOUND if before_id is None else before_id,
            limit,
        )
        return [(row_to_room(row), row["joined"]) for row in rows]

    async def add_member(self, *, room_id: int, user: User) -> Message | None:
        async with self._pool.acquire() as conn, conn.transaction():
            room = await lock_room(conn, room_id)
            found = await standing(conn, room_id, user.id)
            if found is None or found.role is not None:
                return None  # no such user (it cannot be: they signed in) or a member already
            check_join(room, found)
            role = "owner" if room.owner_id == user.id and room.kind == "room" else "member"
            await conn.execute(
                "INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, $3)",
                room_id,
                user.id,
                role,
            )
            await conn.execute(
                "DELETE FROM room_invitations WHERE room_id = $1 AND user_id = $2",
                room_id,
                user.id,
            )
            return await insert_message(
                conn, room_id=room_id, kind="system", author=None, body=f"{user.username} joined"
            )

    async def remove_member(self, *, room_id: int, user: User) -> Message | None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(LOCK_ROOM_SQL, room_id)
            removed = await conn.fetchval(
                "DELETE FROM memberships WHERE room_id = $1 AND user_id = $2 RETURNING true",
                room_id,
                user.id,
            )
            if not removed:
                return None
            return await insert_message(
                conn, room_id=room_id, kind="system", author=None, body=f"{user.username} left"
            )

    async def members(self, room_id: int) -> list[Member]:
        rows = await self._pool.fetch(
            "SELECT u.id, u.username, u.created_at, m.role, m.joined_at "
            "FROM memberships m JOIN users u ON u.id = m.user_id "
            "WHERE m.room_id = $1 ORDER BY m.joined_at, u.id",
            room_id,
        )
        return [
            Member(user=row_to_user(row), role=row["role"], joined_at=row["joined_at"])
            for row in rows
        ]

    async def room_ids_of(self, user_id: int) -> list[int]:
        rows = await self._pool.fetch(
            "SELECT room_id FROM memberships WHERE user_id = $1 ORDER BY room_id", user_id
        )
        return [row["room_id"] for row in rows]

    async def is_member(self, room_id: int, user_id: int) -> bool:
        return await self._pool.fetchval(
            "SELECT EXISTS (SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2)",
            room_id,
            user_id,
        )
