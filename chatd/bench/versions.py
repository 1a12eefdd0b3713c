"""The versions of everything a figure depends on."""

import asyncio
import os
import platform
from importlib import metadata
from pathlib import Path

import asyncpg
import redis.asyncio as redis

from chatd.bench.services import Services

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("aiohttp", "asyncpg", "redis", "python-socketio", "python-engineio", "hdrhistogram")


def _package(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


async def _git(*args: str) -> str:
    """Read-only git, without taking the index lock (someone may be committing)."""
    env = os.environ | {"GIT_OPTIONAL_LOCKS": "0"}
    try:
        process = await asyncio.create_subprocess_exec(
            "git",
            "-C",
            str(PROJECT_ROOT),
            *args,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
    except OSError:
        return ""
    out, _ = await process.communicate()
    return out.decode().strip() if process.returncode == 0 else ""


async def _postgres(url: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()


async def _redis(url: str) -> str:
    client = redis.Redis.from_url(url)
    try:
        return (await client.info("server"))["redis_version"]
    finally:
        await client.aclose()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _loops(uvloop: bool) -> str:
    servers = "uvloop for ceiling and peer" if uvloop else "asyncio for ceiling and peer"
    generator = "uvloop" if _package("uvloop") != "not installed" else "asyncio"
    return f"{servers}, chatd its own; load generator {generator}"


async def _chatd(source: Path | None) -> str:
    if source is not None:
        return f"from {source}"
    commit = await _git("rev-parse", "--short", "HEAD")
    dirty = await _git("status", "--porcelain", "--untracked-files=no")
    return f"{commit}{' with uncommitted changes' if dirty else ''}" or "unknown"


async def versions(
    services: Services, *, uvloop: bool, chatd_source: Path | None
) -> dict[str, str]:
    found = {
        "chatd": await _chatd(chatd_source),
        "python": platform.python_version(),
        **{name: _package(name) for name in PACKAGES},
        "PostgreSQL": await _postgres(services.database_url),
        "Redis": await _redis(services.redis_url),
        "uvloop": _package("uvloop"),
        "event loops": _loops(uvloop),
        "cpu": _cpu_model(),
    }
    return found
