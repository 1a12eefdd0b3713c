"""A private PostgreSQL server that a fault test owns, so it may stop or restart it without harming
any other test: pgserver's postgres, from the binaries the embedded extra ships. (The private
Redis, RedisProcess, is in tests/services.py.)"""

import asyncio
import os
import tempfile
from pathlib import Path

import pgserver

from chatd.infrastructure.db import migrate
from tests.services import stop_postgres


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
