"""sql/ migrations: on an empty database, twice, and from three processes at once."""

import asyncio
import os
import sys

import asyncpg
import pytest

from chatd.config import Settings
from chatd.infrastructure.db import migrate, migration_files

SQL_DIR = Settings().sql_dir
ALL_VERSIONS = [path.stem for path in migration_files(SQL_DIR)]


async def recorded_versions(url: str) -> list[str]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
        return [row["version"] for row in rows]
    finally:
        await conn.close()


async def test_files_are_numbered_and_unique():
    numbers = [version.split("_", 1)[0] for version in ALL_VERSIONS]
    assert ALL_VERSIONS and len(set(numbers)) == len(numbers)
    assert ALL_VERSIONS[0].startswith("0001_")


async def test_applies_everything_to_an_empty_database(empty_database_url):
    applied = await migrate(empty_database_url, SQL_DIR)
    assert applied == ALL_VERSIONS
    assert await recorded_versions(empty_database_url) == ALL_VERSIONS
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM users") == 0
    finally:
        await conn.close()


async def test_second_run_is_a_no_op(empty_database_url):
    await migrate(empty_database_url, SQL_DIR)
    assert await migrate(empty_database_url, SQL_DIR) == []
    assert await recorded_versions(empty_database_url) == ALL_VERSIONS


async def test_a_failing_migration_leaves_nothing_half_applied(empty_database_url, tmp_path):
    for path in migration_files(SQL_DIR):
        (tmp_path / path.name).write_text(path.read_text())
    (tmp_path / "9999_broken.sql").write_text("CREATE TABLE half (id int); SELECT no_such_thing;")
    try:
        await migrate(empty_database_url, tmp_path)
    except asyncpg.PostgresError:
        pass
    else:
        raise AssertionError("the broken migration should have failed")
    assert await recorded_versions(empty_database_url) == ALL_VERSIONS
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT to_regclass('half')") is None
    finally:
        await conn.close()


@pytest.mark.slow
async def test_three_processes_at_once_apply_each_file_once(empty_database_url):
    env = {**os.environ, "DATABASE_URL": empty_database_url}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "chatd",
            "migrate",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        for _ in range(3)
    ]
    outputs = await asyncio.wait_for(
        asyncio.gather(*(process.communicate() for process in processes)), timeout=60
    )
    for process, (output, _) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, output.decode()
    assert await recorded_versions(empty_database_url) == ALL_VERSIONS
    # Every migration was applied by exactly one of the three.
    applied_lines = [
        line
        for output, _ in outputs
        for line in output.decode().splitlines()
        if "applied migration" in line
    ]
    assert len(applied_lines) == len(ALL_VERSIONS)
