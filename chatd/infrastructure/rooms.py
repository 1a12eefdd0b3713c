"""Rooms and memberships in PostgreSQL."""

import asyncpg

from chatd.domain.model import Member, Message, Room, User
from chatd.infrastructure.accounts import row_to_user
from chatd.infrastructure.messages import LOCK_ROOM_SQL, NO_UPPER_BOUND, insert_message
from chatd.infrastructure.outages import unavailable_on_outage

ROOM_COLUMNS = """
    r.id, r.name, r.topic, r.owner_id, r.created_at,
    (SELECT count(*) FROM memberships c WHERE c.room_id = r.id) AS member_count
"""


def row_to_room(row: asyncpg.Record) -> Room:
    return Room(
        id=row["id"],
        name=row["name"],
        topic=row["topic"],
        owner_id=row["owner_id"],
        created_at=row["created_at"],
        member_count=row["member_count"],
    )


@unavailable_on_outage
class PgRoomRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, *, name: str, topic: str, owner: User) -> Room:
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "INSERT INTO rooms (name, topic, owner_id) VALUES ($1, $2, $3) "
                "RETURNING id, name, topic, owner_id, created_at, 1 AS member_count",
                name,
                topic,
                owner.id,
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

    async def list_page(
        self, *, viewer_id: int, limit: int, before_id: int | None
    ) -> list[tuple[Room, bool]]:
        rows = await self._pool.fetch(
            f"""
            SELECT {ROOM_COLUMNS},
                   EXISTS (SELECT 1 FROM memberships j WHERE j.room_id = r.id AND j.user_id = $1)
                   AS joined
            FROM rooms r
            WHERE r.id < $2
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
            owner_id = await conn.fetchval(LOCK_ROOM_SQL, room_id)
            if owner_id is None:
                return None
            role = "owner" if owner_id == user.id else "member"
            added = await conn.fetchval(
                "INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, $3) "
                "ON CONFLICT DO NOTHING RETURNING true",
                room_id,
                user.id,
                role,
            )
            if not added:
                return None
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
