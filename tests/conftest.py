"""Fixtures shared by every suite.

A template database is migrated once per run; each test that asks for `database_url` gets a
fresh copy of it (CREATE DATABASE ... TEMPLATE), and each test that asks for `redis_url` gets
an emptied Redis database.
"""

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as redis

from chatd.app import create_app
from chatd.config import Settings
from chatd.infrastructure.db import migrate
from tests.services import postgres_server, redis_server, with_database
from tests.support import Api

TEST_SECRET = "test-secret-long-enough-for-any-hmac-algorithm-0123456789abcdefghij"


# The embedded servers live in directories of their own, not under pytest's basetemp: pytest
# prunes old basetemp directories when a run starts, which would pull the data out from under a
# run still going on the same machine.
@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    with postgres_server(Path(tempfile.mkdtemp(prefix="chatd-test-pg-"))) as url:
        yield url


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    workdir = Path(tempfile.mkdtemp(prefix="chatd-test-redis-"))
    with redis_server(workdir) as url:
        yield url
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def template_database(pg_server_url: str) -> Iterator[str]:
    name = f"chatd_template_{os.getpid()}"
    settings = Settings()

    async def build() -> None:
        await _execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}"')
        await _execute(pg_server_url, f'CREATE DATABASE "{name}"')
        await migrate(with_database(pg_server_url, name), settings.sql_dir)

    asyncio.run(build())
    yield name
    asyncio.run(_execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def database_url(pg_server_url: str, template_database: str) -> AsyncIterator[str]:
    name = f"chatd_test_{uuid.uuid4().hex[:16]}"
    await _execute(pg_server_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield with_database(pg_server_url, name)
    await _execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def empty_database_url(pg_server_url: str) -> AsyncIterator[str]:
    """A database with no schema at all, for migration tests."""
    name = f"chatd_empty_{uuid.uuid4().hex[:16]}"
    await _execute(pg_server_url, f'CREATE DATABASE "{name}"')
    yield with_database(pg_server_url, name)
    await _execute(pg_server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def redis_url(redis_server_url: str) -> str:
    client = redis.Redis.from_url(redis_server_url)
    await client.flushdb()
    await client.aclose()
    return redis_server_url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
def settings(database_url: str, redis_url: str, tmp_path) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        jwt_secret=TEST_SECRET,
        bcrypt_rounds=4,
        message_rate=0,  # load tests post thousands; the rate limits have tests of their own
        room_rate=0,
        join_rate=0,
        data_dir=tmp_path / "chatd",
    )


@pytest.fixture
async def api(settings: Settings, aiohttp_client) -> Api:
    """The real app on a real loopback socket, with helpers for the common calls.

    `settings` comes first so that the app is closed before its database is dropped."""
    return Api(await aiohttp_client(create_app(settings)))


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


# The figures tests state (`[lost 0 of 10000, …]`): printed at once (seen with -s) and listed
# again at the end of every run under "figures", since pytest hides what a passing test prints.
FIGURES = pytest.StashKey[list[tuple[str, str]]]()


@pytest.fixture
def figure(request) -> Callable[[str], None]:
    """figure("lost 0 of 10000, duplicates 0"): print `[…]` and keep it for the summary."""
    kept = request.config.stash.setdefault(FIGURES, [])

    def state(text: str) -> None:
        print(f"{request.node.name}: [{text}]")
        kept.append((request.node.nodeid, f"[{text}]"))

    return state


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if kept := config.stash.get(FIGURES, []):
        terminalreporter.section("figures")
        for nodeid, line in kept:
            terminalreporter.write_line(f"{nodeid} {line}")
