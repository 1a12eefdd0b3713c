"""Roles, kicks, bans and invitations in PostgreSQL.

Each write is one transaction that first locks the room row (as joins and posts do), reads the
actor's and the target's standing, lets chatd.domain.permissions judge, and only then acts: a
rule is always judged on the state the change is made to, whichever process acts.
"""

from collections.abc import Callable
from dataclasses import replace

import asyncpg

from chatd.domain import permissions
from chatd.domain.errors import NotFound
from chatd.domain.model import Ban, Invitation, Message, Room, Standing, User
from chatd.infrastructure.accounts import row_to_user
from chatd.infrastructure.messages import insert_message
from chatd.infrastructure.outages import unavailable_on_outage
from chatd.infrastructure.rooms import ROOM_COLUMNS, lock_room, row_to_room, standing

BAN_SELECT = """
    SELECT u.id, u.username, u.created_at, b.created_at AS banned_at,
           x.id AS by_id, x.username AS by_username, x.created_at AS by_created_at
    FROM room_bans b JOIN users u ON u.id = b.user_id JOIN users x ON x.id = b.banned_by
"""

INVITATIONS_SQL = f"""
    SELECT {ROOM_COLUMNS}, u.id AS user_id, u.username AS user_username,
           u.created_at AS user_created_at, i.created_at AS invited_at,
           x.id AS by_id, x.username AS by_username, x.created_at AS by_created_at
    FROM room_invitations i
    JOIN rooms r ON r.id = i.room_id
    JOIN users u ON u.id = i.user_id
    JOIN users x ON x.id = i.invited_by
"""


def _row_to_ban(row: asyncpg.Record) -> Ban:
    return Ban(row_to_user(row), row_to_user(row, "by_"), row["banned_at"])


def _row_to_invitation(row: asyncpg.Record) -> Invitation:
    return Invitation(
        row_to_room(row), row_to_user(row, "user_"), row_to_user(row, "by_"), row["invited_at"]
    )


@unavailable_on_outage
class PgModerationRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def set_role(
        self, *, room_id: int, actor_id: int, target_id: int, role: str
    ) -> tuple[Standing, Message | None]:
        async with self._pool.acquire() as conn, conn.transaction():
            room, actor, target = await _locked(conn, room_id, actor_id, target_id)
            target = permissions.check_role_change(room, actor, target, role)
            if target.role == role:
                return target, None
            await conn.execute(
                "UPDATE memberships SET role = $3 WHERE room_id = $1 AND user_id = $2",
                room_id,
                target_id,
                role,
            )
            message = await _system(
                conn, room_id, permissions.role_note(target.user.username, role)
            )
            return replace(target, role=role), message

    async def kick(self, *, room_id: int, actor_id: int, target_id: int) -> tuple[User, Message]:
        async with self._pool.acquire() as conn, conn.transaction():
            room, actor, target = await _locked(conn, room_id, actor_id, target_id)
            target = permissions.check_kick(room, actor, target)
            await _remove_member(conn, room_id, target_id)
            return target.user, await _system(conn, room_id, f"{target.user.username} was kicked")

    async def ban(
        self, *, room_id: int, actor_id: int, target_id: int
    ) -> tuple[Ban, Message | None, bool]:
        async with self._pool.acquire() as conn, conn.transaction():
            room, actor, target = await _locked(conn, room_id, actor_id, target_id)
            target = permissions.check_ban(room, actor, target)
            if not target.banned:
                await conn.execute(
                    "INSERT INTO room_bans (room_id, user_id, banned_by) VALUES ($1, $2, $3)",
                    room_id,
                    target_id,
                    actor_id,
                )
                await conn.execute(
                    "DELETE FROM room_invitations WHERE room_id = $1 AND user_id = $2",
                    room_id,
                    target_id,
                )
                await _remove_member(conn, room_id, target_id)
            row = await conn.fetchrow(
                f"{BAN_SELECT} WHERE b.room_id = $1 AND b.user_id = $2", room_id, target_id
            )
            if target.banned:
                return _row_to_ban(row), None, False
            message = await _system(conn, room_id, f"{target.user.username} was banned")
            return _row_to_ban(row), message, target.role is not None

    async def unban(self, *, room_id: int, actor_id: int, target_id: int) -> tuple[User, Message]:
        async with self._pool.acquire() as conn, conn.transaction():
            room, actor, target = await _locked(conn, room_id, actor_id, target_id)
            target = permissions.check_unban(room, actor, target)
            await conn.execute(
                "DELETE FROM room_bans WHERE room_id = $1 AND user_id = $2", room_id, target_id
            )
            return target.user, await _system(conn, room_id, f"{target.user.username} was unbanned")

    async def bans(self, *, room_id: int, viewer_id: int) -> list[Ban]:
        await self._judge(room_id, viewer_id, permissions.check_moderator)
        rows = await self._pool.fetch(
            f"{BAN_SELECT} WHERE b.room_id = $1 ORDER BY b.created_at DESC, u.id", room_id
        )
        return [_row_to_ban(row) for row in rows]

    async def invite(
        self, *, room_id: int, actor_id: int, target_id: int
    ) -> tuple[Invitation, bool]:
        async with self._pool.acquire() as conn, conn.transaction():
            room, actor, target = await _locked(conn, room_id, actor_id, target_id)
            target = permissions.check_invite(room, actor, target)
            await conn.execute(
                "INSERT INTO room_invitations (room_id, user_id, invited_by) VALUES ($1, $2, $3) "
                "ON CONFLICT DO NOTHING",
                room_id,
                target_id,
                actor_id,
            )
            row = await conn.fetchrow(
                f"{INVITATIONS_SQL} WHERE i.room_id = $1 AND i.user_id = $2", room_id, target_id
            )
            return _row_to_invitation(row), not target.invited

    async def invitations(self, *, room_id: int, viewer_id: int) -> list[Invitation]:
        await self._judge(room_id, viewer_id, permissions.check_moderator)
        rows = await self._pool.fetch(
            f"{INVITATIONS_SQL} WHERE i.room_id = $1 ORDER BY i.created_at DESC, u.id", room_id
        )
        return [_row_to_invitation(row) for row in rows]

    async def revoke(self, *, room_id: int, actor_id: int, target_id: int) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            room, actor, target = await _locked(conn, room_id, actor_id, target_id)
            permissions.check_revoke(room, actor, target)
            await conn.execute(
                "DELETE FROM room_invitations WHERE room_id = $1 AND user_id = $2",
                room_id,
                target_id,
            )

    async def invitations_of(self, user_id: int) -> list[Invitation]:
        rows = await self._pool.fetch(
            f"{INVITATIONS_SQL} WHERE i.user_id = $1 ORDER BY i.created_at DESC, r.id", user_id
        )
        return [_row_to_invitation(row) for row in rows]

    async def _judge(
        self, room_id: int, viewer_id: int, check: Callable[[Room, Standing], None]
    ) -> None:
        """Reads need no lock: judge the viewer on the room as it is now."""
        row = await self._pool.fetchrow(
            f"SELECT {ROOM_COLUMNS} FROM rooms r WHERE r.id = $1", room_id
        )
        viewer = await standing(self._pool, room_id, viewer_id)
        if row is None or viewer is None:
            raise NotFound(f"there is no room {room_id}", code="room_not_found")
        check(row_to_room(row), viewer)


async def _locked(
    conn: asyncpg.Connection, room_id: int, actor_id: int, target_id: int
) -> tuple[Room, Standing, Standing | None]:
    """The locked room, the actor's standing in it and the target's (None: no such user)."""
    room = await lock_room(conn, room_id)
    actor = await standing(conn, room_id, actor_id)
    if actor is None:  # the caller's account is gone
        raise NotFound(f"there is no room {room_id}", code="room_not_found")
    return room, actor, await standing(conn, room_id, target_id)


async def _remove_member(conn: asyncpg.Connection, room_id: int, user_id: int) -> None:
    await conn.execute(
        "DELETE FROM memberships WHERE room_id = $1 AND user_id = $2", room_id, user_id
    )


async def _system(conn: asyncpg.Connection, room_id: int, body: str) -> Message:
    return await insert_message(conn, room_id=room_id, kind="system", author=None, body=body)
