"""CPU seconds spent during a step by the server under test, its PostgreSQL and its Redis, and
by every *other* process on the host, which tells a disturbed step from a slow server.

PostgreSQL: the postmaster plus every backend of the benchmark's own database and the
background processes (no database), so other databases' clients on a shared server are not
counted as ours. Redis: the redis-server process (all threads). Both only when on this host
and only for the contenders that use them. "Ours" is the runner and everything it started
(servers, load generator) plus those; the rest of the host is "other".
"""

import os
import time
from dataclasses import dataclass

import asyncpg
import redis.asyncio as redis

from chatd.bench import procstat

LOAD_CPU = 1  # the load generator's CPU, whose busy share each step reports


async def postmaster_pid(conn: asyncpg.Connection) -> int | None:
    backend = await conn.fetchval("SELECT pg_backend_pid()")
    return procstat.parent_of(backend)


async def redis_pid(url: str) -> int | None:
    client = redis.Redis.from_url(url)
    try:
        pid = int((await client.info("server"))["process_id"])
    finally:
        await client.aclose()
    return pid if procstat.command(pid).startswith("redis") else None


@dataclass(frozen=True, slots=True)
class Sample:
    at: float
    processes: dict[int, tuple[int, float]]  # the whole host, see procstat.snapshot
    server: float
    pg: dict[int, float]
    redis: float
    load_ticks: tuple[int, int]


@dataclass(frozen=True, slots=True)
class Spent:
    server: float
    pg: float | None
    redis: float | None
    other: float  # CPU seconds of processes that are not ours
    seconds: float
    load_busy: float  # share of the load generator's CPU that was busy


class Probe:
    def __init__(self, server_pid: int, pg_url: str | None, redis_url: str | None) -> None:
        self.server_pid, self.pg_url, self.redis_url = server_pid, pg_url, redis_url
        self.pg: asyncpg.Connection | None = None
        self.postmaster: int | None = None
        self.redis_pid: int | None = None

    async def open(self) -> None:
        if self.pg_url:
            self.pg = await asyncpg.connect(self.pg_url)
            self.postmaster = await postmaster_pid(self.pg)
            if self.postmaster is None:  # not on this host
                await self.close()
        if self.redis_url:
            self.redis_pid = await redis_pid(self.redis_url)

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()
            self.pg = None

    async def sample(self) -> Sample:
        pg: dict[int, float] = {}
        if self.pg is not None and self.postmaster is not None:
            rows = await self.pg.fetch(
                "SELECT pid FROM pg_stat_activity"
                " WHERE datname = current_database() OR datname IS NULL"
            )
            for pid in [self.postmaster, *(row["pid"] for row in rows)]:
                pg[pid] = procstat.cpu_seconds(pid)
        return Sample(
            at=time.monotonic(),
            processes=procstat.snapshot(),
            server=procstat.tree_cpu_seconds(self.server_pid),
            pg=pg,
            redis=procstat.cpu_seconds(self.redis_pid) if self.redis_pid else 0.0,
            load_ticks=procstat.cpu_ticks(LOAD_CPU),
        )

    def _ours(self, sample: Sample) -> set[int]:
        services = {*sample.pg, self.redis_pid}
        return procstat.family(sample.processes, os.getpid()) | services

    def spent(self, before: Sample, after: Sample) -> Spent:
        # A backend that appeared during the step counts whole; one that left is lost.
        pg = sum(cpu - before.pg.get(pid, 0.0) for pid, cpu in after.pg.items())
        ours = self._ours(before) | self._ours(after)
        other = sum(
            cpu - before.processes.get(pid, (0, 0.0))[1]
            for pid, (_, cpu) in after.processes.items()
            if pid not in ours
        )
        busy = after.load_ticks[0] - before.load_ticks[0]
        total = after.load_ticks[1] - before.load_ticks[1]
        return Spent(
            server=after.server - before.server,
            pg=pg if self.pg is not None else None,
            redis=after.redis - before.redis if self.redis_pid else None,
            other=max(other, 0.0),
            seconds=after.at - before.at,
            load_busy=busy / total if total else 0.0,
        )
