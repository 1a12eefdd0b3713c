"""PostgreSQL and Redis for a run: the servers named on the command line (or by
CHATD_BENCH_DATABASE_URL / CHATD_BENCH_REDIS_URL), else embedded ones in a temporary directory,
which the benchmark owns and so pins to the load generator's CPU."""

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from chatd.bench import procstat
from chatd.bench.probe import LOAD_CPU, postmaster_pid, redis_pid
from chatd.infrastructure.embedded import embedded_postgres, embedded_redis

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    database_url: str  # a server URL; each chatd round gets a database of its own on it
    redis_url: str
    embedded_pg: bool
    embedded_redis: bool


@contextlib.contextmanager
def bench_services(
    database_url: str | None, redis_url: str | None, workdir: Path
) -> Iterator[Services]:
    with contextlib.ExitStack() as stack:
        services = Services(
            database_url=database_url or stack.enter_context(embedded_postgres(workdir / "pg")),
            redis_url=redis_url or stack.enter_context(embedded_redis(workdir / "redis")),
            embedded_pg=not database_url,
            embedded_redis=not redis_url,
        )
        yield services


async def pin_embedded(services: Services) -> None:
    """Put the embedded servers on the load generator's CPU, as BENCH.md places them."""
    if not procstat.two_cpus():
        return
    if services.embedded_pg:
        conn = await asyncpg.connect(services.database_url)
        try:
            postmaster = await postmaster_pid(conn)
        finally:
            await conn.close()
        if postmaster is not None:
            for pid in [postmaster, *procstat.descendants(postmaster)]:
                procstat.pin(pid, LOAD_CPU)
    if services.embedded_redis and (pid := await redis_pid(services.redis_url)):
        procstat.pin(pid, LOAD_CPU)


def with_database(url: str, name: str) -> str:
    """The same server URL, naming another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def create_database(server_url: str, name: str) -> str:
    await _execute(server_url, f'CREATE DATABASE "{name}"')
    return with_database(server_url, name)


async def drop_database(server_url: str, name: str) -> None:
    await _execute(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()
