"""Where one piece saturates, measured alone (docs/SCALING.md): `python -m chatd.bench.ceilings`.

- `store`: messages stored per second through chatd's own store (PgMessageRepo: group commit,
  one statement per batch, the room row's `last_seq` as the counter), by W writer processes of C
  concurrent posters each, into R rooms. R=1 is one room's ceiling (every batch of every writer
  takes that one row's lock); R=100 spreads the same load over many rows.
- `pubsub`: messages delivered per second through Redis Pub/Sub, P publisher processes
  pipelining to N channels, one subscriber process per Redis (PUBLISH/SUBSCRIBE on one
  redis-server, or SPUBLISH/SSUBSCRIBE on a 3-master cluster, each subscriber on its shard).
  The Redis servers are Debian's redis-server, started here on loopback and killed at the end.

Each run is bounded by --seconds (default 10) and uses loopback only.
"""

import argparse
import asyncio
import multiprocessing
import os
import random
import subprocess
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster

from chatd.bench.redis_nodes import redis_cluster, single_redis
from chatd.config import Settings
from chatd.domain.model import User
from chatd.infrastructure.db import create_pool, migrate
from chatd.infrastructure.messages import PgMessageRepo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatd.bench.ceilings")
    sub = parser.add_subparsers(dest="what", required=True)
    store = sub.add_parser("store", help="messages stored per second")
    store.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    store.add_argument("--rooms", type=int, default=1)
    store.add_argument("--writers", type=int, default=2, help="writer processes")
    store.add_argument("--posters", type=int, default=64, help="concurrent posts per writer")
    store.add_argument("--seconds", type=float, default=10.0)
    pubsub = sub.add_parser("pubsub", help="Pub/Sub messages delivered per second")
    pubsub.add_argument("--cluster", action="store_true", help="a 3-master cluster, sharded")
    pubsub.add_argument("--publishers", type=int, default=2, help="publisher processes")
    pubsub.add_argument("--channels", type=int, default=300)
    pubsub.add_argument("--seconds", type=float, default=10.0)
    publish = sub.add_parser(
        "publish", help="PUBLISH/SPUBLISH per second by redis-benchmark, no subscriber"
    )
    publish.add_argument("--cluster", action="store_true", help="a 3-master cluster, sharded")
    publish.add_argument("--requests", type=int, default=1_000_000, help="per redis-server")
    args = parser.parse_args(argv)
    runs = {"store": run_store, "pubsub": run_pubsub, "publish": run_publish}
    result = runs[args.what](args)
    print(result)
    return 0


# Storing.


def run_store(args: argparse.Namespace) -> str:
    name = f"chatd_ceilings_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(args.database_url)._replace(path=f"/{name}"))
    asyncio.run(_admin(args.database_url, f'CREATE DATABASE "{name}"'))
    try:
        rooms = asyncio.run(_prepare(url, args.rooms))
        job = (_store_worker, (url, rooms, args.posters))
        results = _in_processes([job] * args.writers, args.seconds)
    finally:
        asyncio.run(_admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    stored, batches = sum(r[0] for r in results), sum(r[1] for r in results)
    rate = stored / args.seconds
    return (
        f"store: {rate:,.0f} messages/s into {args.rooms} room(s) "
        f"({batches / args.seconds:,.0f} transactions/s of {stored / max(batches, 1):.1f}), "
        f"{args.writers} writer processes x {args.posters} concurrent posts, {args.seconds:.0f}s"
    )


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _prepare(url: str, rooms: int) -> list[int]:
    await migrate(url, Settings().sql_dir)
    conn = await asyncpg.connect(url)
    try:
        user = await conn.fetchval(
            "INSERT INTO users (username, password_hash) VALUES ('bench', '\\x00') RETURNING id"
        )
        ids = []
        for n in range(rooms):
            room = await conn.fetchval(
                "INSERT INTO rooms (name, owner_id) VALUES ($1, $2) RETURNING id", f"r{n}", user
            )
            await conn.execute(
                "INSERT INTO memberships (room_id, user_id, role) VALUES ($1, $2, 'owner')",
                room,
                user,
            )
            ids.append(room)
        return ids
    finally:
        await conn.close()


def _store_worker(url: str, rooms: list[int], posters: int, ready, seconds: float) -> int:
    async def run() -> int:
        pool = await create_pool(url)
        repo = PgMessageRepo(pool)
        author = await pool.fetchrow("SELECT id, username, created_at FROM users LIMIT 1")
        user = User(id=author["id"], username=author["username"], created_at=author["created_at"])
        await asyncio.to_thread(ready.wait)
        deadline = time.monotonic() + seconds
        count = 0

        async def post() -> None:
            nonlocal count
            while time.monotonic() < deadline:
                await repo.add(
                    room_id=random.choice(rooms), author=user, body="x" * 40, client_id=None
                )
                count += 1

        await asyncio.gather(*(post() for _ in range(posters)))
        await pool.close()
        return count, repo.batches

    return asyncio.run(run())


# Pub/Sub.


def run_pubsub(args: argparse.Namespace) -> str:
    channels = [f"chatd:room:{n}" for n in range(1, args.channels + 1)]
    if args.cluster:
        with redis_cluster() as nodes:
            shards = _shards(nodes.url, channels)
            pids = [process.pid for process in nodes.processes.values()]
            before = [_cpu_seconds(pid) for pid in pids]
            rate, sent = _pubsub(shards, args.publishers, args.seconds, sharded=True)
            busy = [_cpu_seconds(pid) - b for pid, b in zip(pids, before, strict=True)]
        where = f"a 3-master cluster ({', '.join(str(len(c)) for c in shards.values())} channels)"
    else:
        with single_redis() as (url, pid):
            before = _cpu_seconds(pid)
            rate, sent = _pubsub({url: channels}, args.publishers, args.seconds, sharded=False)
            busy = [_cpu_seconds(pid) - before]
        where = "one redis-server"
    # Seconds of CPU each redis-server used, over the run's length (setup included: an upper
    # bound): how far from saturating one core the servers were.
    cpu = ", ".join(f"{100 * used / args.seconds:.0f}%" for used in busy)
    return (
        f"pubsub: {rate:,.0f} messages/s delivered ({sent:,.0f}/s published) on {where}, "
        f"{args.channels} channels, "
        f"{args.publishers} publisher processes, {args.seconds:.0f}s; redis-server CPU {cpu}"
    )


def run_publish(args: argparse.Namespace) -> str:
    """Redis's own publish rate (C clients, pipelined): one redis-benchmark per redis-server,
    all at once; on the cluster each publishes to channels whose hash tag its shard owns."""
    payload = "x" * 200
    if args.cluster:
        with redis_cluster() as nodes:
            tags = asyncio.run(_tag_per_shard(nodes.url))
            runs = [
                (port, ["spublish", f"chatd:{{{tag}}}:__rand_int__", payload])
                for port, tag in tags.items()
            ]
            rate = _redis_benchmark(runs, args.requests)
        where = "a 3-master cluster (SPUBLISH)"
    else:
        with single_redis() as (url, _):
            port = int(url.rsplit(":", 1)[1].split("/")[0])
            rate = _redis_benchmark(
                [(port, ["publish", "chatd:room:__rand_int__", payload])], args.requests
            )
        where = "one redis-server (PUBLISH)"
    return f"publish: {rate:,.0f} publishes/s on {where}, no subscriber, redis-benchmark -P 100"


async def _tag_per_shard(url: str) -> dict[int, str]:
    """A hash tag each primary owns, found with redis-py's slot table: port -> tag."""
    client = RedisCluster.from_url(url)
    await client.initialize()
    tags: dict[int, str] = {}
    for n in range(1000):
        tags.setdefault(client.get_node_from_key(f"{{s{n}}}").port, f"s{n}")
        if len(tags) == len(client.get_primaries()):
            break
    await client.aclose()
    return tags


BENCHMARK = ("redis-benchmark", "-P", "100", "-c", "8", "-r", "300", "-q")


def _redis_benchmark(runs: list[tuple[int, list[str]]], requests: int) -> float:
    """Run redis-benchmark against each port at once; the total requests per second."""
    started = time.monotonic()
    benchmarks = [
        subprocess.Popen(
            [*BENCHMARK, "-p", str(port), "-n", str(requests), *command],
            stdout=subprocess.DEVNULL,
        )
        for port, command in runs
    ]
    for benchmark in benchmarks:
        benchmark.wait(timeout=120)
    return requests * len(runs) / (time.monotonic() - started)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _shards(url: str, channels: list[str]) -> dict[str, list[str]]:
    """Each primary's URL and the channels it owns (redis-py's slot table)."""

    async def ask() -> dict[str, list[str]]:
        client = RedisCluster.from_url(url)
        await client.initialize()
        shards: dict[str, list[str]] = {}
        for channel in channels:
            node = client.get_node_from_key(channel)
            shards.setdefault(f"redis://{node.host}:{node.port}/0", []).append(channel)
        await client.aclose()
        return shards

    return asyncio.run(ask())


def _pubsub(
    shards: dict[str, list[str]], publishers: int, seconds: float, sharded: bool
) -> tuple[float, float]:
    """Messages delivered and published per second."""
    jobs = [(_subscriber, (url, chans, sharded)) for url, chans in shards.items()]
    jobs += [(_publisher, (shards, sharded))] * publishers
    counts = _in_processes(jobs, seconds)
    return sum(counts[: len(shards)]) / seconds, sum(counts[len(shards) :]) / seconds


def _in_processes(jobs: list[tuple], seconds: float) -> list:
    """Run each job(*args, ready, seconds) in a process of its own, all starting together once
    every one is ready; their counts, in the order of the jobs."""
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Barrier(len(jobs)), ctx.Queue()
    processes = [
        ctx.Process(target=_job, args=(n, job, args, ready, seconds, results))
        for n, (job, args) in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    try:
        counts = dict(results.get(timeout=seconds + 120) for _ in processes)
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    return [counts[n] for n in range(len(jobs))]


def _job(n, job, args, ready, seconds, results) -> None:
    results.put((n, job(*args, ready, seconds)))


def _subscriber(url, channels, sharded, ready, seconds) -> int:
    async def run() -> int:
        client = redis.Redis.from_url(url)
        pubsub = client.pubsub()
        for channel in channels:
            await (pubsub.ssubscribe(channel) if sharded else pubsub.subscribe(channel))
        for _ in channels:
            await pubsub.get_message(timeout=10)
        await asyncio.to_thread(ready.wait)
        deadline, count = time.monotonic() + seconds, 0
        while time.monotonic() < deadline:
            message = await pubsub.get_message(timeout=0.5)
            if message is not None and message["type"] in ("message", "smessage"):
                count += 1
        await pubsub.aclose()
        await client.aclose()
        return count

    return asyncio.run(run())


def _publisher(shards, sharded, ready, seconds) -> int:
    async def run() -> int:
        clients = {url: redis.Redis.from_url(url) for url in shards}
        payload = "new_message 1 1 1\n" + '{"type":"new_message"}' + "x" * 200
        ready.wait()
        deadline, count = time.monotonic() + seconds, 0

        async def pump(url: str, channels: list[str]) -> None:
            nonlocal count
            while time.monotonic() < deadline:
                async with clients[url].pipeline(transaction=False) as pipe:
                    for _ in range(100):
                        (pipe.spublish if sharded else pipe.publish)(
                            random.choice(channels), payload
                        )
                    await pipe.execute()
                count += 100

        await asyncio.gather(*(pump(url, chans) for url, chans in shards.items()))
        for client in clients.values():
            await client.aclose()
        return count

    return asyncio.run(run())


if __name__ == "__main__":
    raise SystemExit(main())
