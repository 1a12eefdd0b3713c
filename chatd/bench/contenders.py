"""Start one contender as a fresh server process, ready for a workload, and stop it after.

chatd gets a database of its own for the round (created, migrated with `chatd migrate`,
dropped afterwards) and is used only through its public REST and WebSocket contract.
"""

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from chatd.bench.chatd_setup import layout, populate
from chatd.bench.options import Workload
from chatd.bench.process import ServerProcess, free_port, tail
from chatd.bench.services import Services, create_database, drop_database
from chatd.bench.wire import ConnSpec


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    base_url: str
    pid: int
    conns: list[ConnSpec]
    pg_url: str | None  # the databases and services whose CPU counts for this contender
    redis_url: str | None


def plain_conns(workload: Workload) -> list[ConnSpec]:
    return [
        ConnSpec(room=f"r{room}", sender=sender)
        for room, _, sender in layout(workload.rooms, workload.members, workload.senders)
    ]


def chatd_env(
    database_url: str, redis_url: str, workdir: Path, source: Path | None, *, uvloop: bool
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATD_")}
    if source is not None:  # its chatd package, and so its sql/, come first
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(source), env.get("PYTHONPATH")]))
    return env | {
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CHATD_JWT_SECRET": secrets.token_urlsafe(36),  # 48 characters
        "CHATD_BCRYPT_ROUNDS": "4",
        "CHATD_MESSAGE_RATE": "0",
        "CHATD_LOGIN_RATE": "0",
        "CHATD_ACCESS_TTL": "7200",  # outlives any phase
        "CHATD_WS_COMPRESSION": "0",
        "CHATD_UVLOOP": "1" if uvloop else "0",
        "CHATD_DATA_DIR": str(workdir / "chatd-data"),
    }


async def _migrate(env: dict[str, str], log: Path, cwd: Path) -> None:
    """`chatd migrate`, run away from any checkout (`-m` puts the cwd first on sys.path)."""
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "chatd", "migrate", env=env, cwd=cwd, stdout=out, stderr=out
        )
    if await process.wait() != 0:
        raise RuntimeError(f"chatd migrate failed:\n{tail(log)}")


@contextlib.asynccontextmanager
async def launch(
    name: str,
    workload: Workload,
    services: Services,
    workdir: Path,
    *,
    uvloop: bool,
    chatd_source: Path | None,
) -> AsyncIterator[Target]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = workdir / f"{name}-{port}.log"
    python = [sys.executable, "-m"]
    if name == "chatd":
        database = f"bench_{secrets.token_hex(6)}"
        database_url = await create_database(services.database_url, database)
        try:
            env = chatd_env(database_url, services.redis_url, workdir, chatd_source, uvloop=uvloop)
            await _migrate(env, log, workdir)
            argv = [*python, "chatd", "serve", "--port", str(port), "--no-migrate"]
            server = ServerProcess(argv, env=env, log=log, cwd=workdir)
            await server.start(f"{base_url}/readyz", want_ok=True)
            try:
                w = workload
                conns = await populate(base_url, w.rooms, w.members, w.senders)
                yield Target(name, base_url, server.pid, conns, database_url, services.redis_url)
            finally:
                await server.stop()
        finally:
            await drop_database(services.database_url, database)
        return
    argv = [*python, f"chatd.bench.servers.{name}", "--port", str(port)]
    argv += ["--uvloop"] if uvloop else []
    redis_url = None
    if name == "peer":
        redis_url = services.redis_url
        argv += ["--redis-url", redis_url, "--channel", f"chatd-bench-{secrets.token_hex(4)}"]
    server = ServerProcess(argv, env=dict(os.environ), log=log, cwd=workdir)
    await server.start(f"{base_url}/", want_ok=False)
    try:
        yield Target(name, base_url, server.pid, plain_conns(workload), None, redis_url)
    finally:
        await server.stop()
