"""Real PostgreSQL and Redis for the tests: the ones named by CHATD_TEST_DATABASE_URL and
CHATD_TEST_REDIS_URL, or else chatd's own embedded ones, started once per run."""

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from chatd.infrastructure.embedded import embedded_postgres, embedded_redis


def with_database(url: str, name: str) -> str:
    """The same server URL, pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextlib.contextmanager
def postgres_server(workdir: Path) -> Iterator[str]:
    url = os.environ.get("CHATD_TEST_DATABASE_URL")
    if url:
        yield url
        return
    with embedded_postgres(workdir, keep=False) as url:
        yield url


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    url = os.environ.get("CHATD_TEST_REDIS_URL")
    if url:
        yield url
        return
    with embedded_redis(workdir) as url:
        yield url


async def stop_postgres(server) -> None:
    """Stop an embedded PostgreSQL (pgserver) at once, with its "fast" shutdown."""
    pid = server.get_pid()
    os.kill(pid, signal.SIGINT)
    async with asyncio.timeout(10):
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            await asyncio.sleep(0.1)
