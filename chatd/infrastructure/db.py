"""The asyncpg pool and the migration runner."""

import logging
from pathlib import Path

import asyncpg

log = logging.getLogger(__name__)

# Any constant works; it only has to be the same for every chatd process.
MIGRATION_LOCK_ID = 0x63686174  # "chat"


async def create_pool(database_url: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        database_url,
        min_size=min_size,
        max_size=max_size,
        command_timeout=30,
        reset=keep_session,
    )


async def keep_session(connection: asyncpg.Connection) -> None:
    """What a connection returned to the pool needs beyond the pool's own rollback of an open
    transaction: nothing. chatd keeps no session state on pooled connections (no LISTEN, no
    session-level SET, advisory lock or cursor), so asyncpg's default reset, a second query
    after every pooled call (`RESET ALL; UNLISTEN *; ...`), would only double the round trips."""


def migration_files(sql_dir: Path) -> list[Path]:
    return sorted(sql_dir.glob("[0-9][0-9][0-9][0-9]_*.sql"))


async def migrate(database_url: str, sql_dir: Path) -> list[str]:
    """Apply the migrations not yet recorded, in order, one transaction each.

    A session-level advisory lock makes concurrent runs (several processes starting at once)
    wait for each other; the ones that come second find nothing left to do.
    Returns the versions applied by this call.
    """
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
        try:
            return await _apply_pending(conn, sql_dir)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)
    finally:
        await conn.close()


async def _apply_pending(conn: asyncpg.Connection, sql_dir: Path) -> list[str]:
    await conn.execute(
        """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            version    text PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now()
        )
        """
    )
    applied = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
    done = []
    for path in migration_files(sql_dir):
        if path.stem in applied:
            continue
        async with conn.transaction():
            await conn.execute(path.read_text(encoding="utf-8"))
            await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", path.stem)
        log.info("applied migration %s", path.stem)
        done.append(path.stem)
    return done
