"""Users and refresh tokens in PostgreSQL."""

from collections.abc import Collection
from datetime import datetime

import asyncpg

from chatd.domain.errors import Conflict
from chatd.domain.model import Credentials, SpentToken, TokenState, User
from chatd.infrastructure.outages import unavailable_on_outage

USER_COLUMNS = "id, username, created_at"


def row_to_user(row: asyncpg.Record, prefix: str = "") -> User:
    return User(
        id=row[f"{prefix}id"],
        username=row[f"{prefix}username"],
        created_at=row[f"{prefix}created_at"],
    )


@unavailable_on_outage
class PgUserRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, *, username: str, password_hash: bytes) -> User:
        try:
            row = await self._pool.fetchrow(
                f"INSERT INTO users (username, password_hash) VALUES ($1, $2) "
                f"RETURNING {USER_COLUMNS}",
                username,
                password_hash,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict("that username is taken", code="username_taken") from None
        return row_to_user(row)

    async def get(self, user_id: int) -> User | None:
        row = await self._pool.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE id = $1", user_id)
        return row_to_user(row) if row else None

    async def find_credentials(self, username: str) -> Credentials | None:
        row = await self._pool.fetchrow(
            f"SELECT {USER_COLUMNS}, password_hash FROM users WHERE lower(username) = lower($1)",
            username,
        )
        return Credentials(row_to_user(row), row["password_hash"]) if row else None


@unavailable_on_outage
class PgRefreshTokenRepo:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def add(self, *, token_hash: bytes, user_id: int, family_id: str, expires_at) -> None:
        await self._pool.execute(
            "INSERT INTO refresh_tokens (token_hash, user_id, family_id, expires_at) "
            "VALUES ($1, $2, $3, $4)",
            token_hash,
            user_id,
            family_id,
            expires_at,
        )

    async def spend(self, token_hash: bytes) -> SpentToken | None:
        # The row lock makes two concurrent refreshes with one token see it fresh only once.
        async with self._pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """
                SELECT user_id, family_id::text,
                       CASE WHEN revoked_at IS NOT NULL THEN 'revoked'
                            WHEN spent_at IS NOT NULL THEN 'spent'
                            WHEN expires_at <= now() THEN 'expired'
                            ELSE 'fresh' END AS state
                FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE
                """,
                token_hash,
            )
            if row is None:
                return None
            if row["state"] == TokenState.FRESH:
                await conn.execute(
                    "UPDATE refresh_tokens SET spent_at = now() WHERE token_hash = $1", token_hash
                )
        return SpentToken(
            user_id=row["user_id"], family_id=row["family_id"], state=TokenState(row["state"])
        )

    async def last_revocations(self, user_ids: Collection[int]) -> dict[int, datetime]:
        rows = await self._pool.fetch(
            "SELECT user_id, max(revoked_at) AS revoked_at FROM refresh_tokens "
            "WHERE user_id = ANY ($1::bigint[]) AND revoked_at IS NOT NULL GROUP BY user_id",
            list(user_ids),
        )
        return {row["user_id"]: row["revoked_at"] for row in rows}

    async def revoke_family(self, family_id: str) -> None:
        await self._pool.execute(
            "UPDATE refresh_tokens SET revoked_at = now() "
            "WHERE family_id = $1::uuid AND revoked_at IS NULL",
            family_id,
        )
