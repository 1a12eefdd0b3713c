"""chatd's send path and history against a raw asyncpg loop running the same SQL (issue 11:
"at least 0.7x a raw asyncpg loop"): `python -m chatd.bench.sendpath [--quick] [--rounds N]
[--messages N] [--reads N] [--database-url URL] [--redis-url URL] [--out DIR]`.

In one process, on one fresh migrated database (embedded PostgreSQL and Redis unless URLs are
given; nothing is pinned to a CPU):

- chatd: `Messaging.post` and `Messaging.history` as `create_app` wires them (the app is started
  without a listening socket; the message rate limit is 0, off);
- raw: an asyncpg pool of the same size (`create_pool`) and a plain redis.asyncio client running
  what those use cases send: STORE_SQL with one-message arrays plus one PUBLISH of the same
  payload per message; the membership check and PAGE_BELOW_SQL per history page.

Each case runs a fixed count of operations at concurrency 1 and 20 (one poster or reader per
room), chatd then raw (A B), every round on the same database, vacuumed before each run
(autovacuum is off for its tables, so that it never lands inside one side's run); the report
gives each round's rates, the median ratio chatd/raw, and this process's CPU time per operation.
"""

import argparse
import asyncio
import json
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import redis.asyncio as redis
from aiohttp import web

from chatd.app import create_app
from chatd.application.frames import dumps
from chatd.application.messages import Messaging
from chatd.bench.services import Services, bench_services, create_database, drop_database
from chatd.bench.versions import versions
from chatd.config import Settings
from chatd.domain.events import MessagePosted
from chatd.domain.model import User
from chatd.domain.rules import DEFAULT_PAGE
from chatd.infrastructure.accounts import PgUserRepo
from chatd.infrastructure.channels import bus_payload, room_channel
from chatd.infrastructure.db import create_pool, migrate
from chatd.infrastructure.messages import NO_UPPER_BOUND, PAGE_BELOW_SQL, STORE_SQL
from chatd.infrastructure.rooms import PgRoomRepo
from chatd.interfaces.keys import MESSAGING

# What PgRoomRepo.is_member runs (Messaging.history's membership check); the suite checks that
# it still does (tests/bench/test_sendpath_quick.py).
MEMBER_SQL = "SELECT EXISTS (SELECT 1 FROM memberships WHERE room_id = $1 AND user_id = $2)"

BODY = "x" * 200  # as the main benchmark's messages
ROOMS = 20  # one poster (or reader) per room at the higher concurrency
SEED = DEFAULT_PAGE + 10  # messages per room before anything is measured: full history pages
WARMUP = 10  # operations per worker before each measurement (prepared statements, connections)
SIDES = ("chatd", "raw")
# Autovacuum off for the tables the cases write and read, which are vacuumed before every
# measurement instead: an autovacuum landing inside one side's run would slow that side only.
QUIET_TABLES = ("messages", "rooms", "memberships")


@dataclass(frozen=True, slots=True)
class Case:
    kind: str  # "send" or "history"
    concurrency: int

    @property
    def name(self) -> str:
        return f"{self.kind} x{self.concurrency}"


CASES = (Case("send", 1), Case("send", 20), Case("history", 1), Case("history", 20))


@dataclass(frozen=True, slots=True)
class Measure:
    """One side of one case in one round."""

    case: str
    side: str
    round: int
    count: int
    seconds: float
    cpu_seconds: float  # of this process (time.process_time)

    @property
    def rate(self) -> float:
        return self.count / self.seconds

    @property
    def cpu_us(self) -> float:
        return self.cpu_seconds * 1e6 / self.count


Op = Callable[[int], Awaitable[object]]  # one operation by worker w (room w, user w)


@dataclass
class Bench:
    """Both sides' operations over the same users and rooms."""

    messaging: Messaging
    pool: asyncpg.Pool
    publisher: redis.Redis
    users: list[User]
    rooms: list[int]

    async def chatd_send(self, w: int) -> None:
        await self.messaging.post(room_id=self.rooms[w], author=self.users[w], body=BODY)

    async def raw_send(self, w: int) -> None:
        room, author = self.rooms[w], self.users[w]
        [row] = await self.pool.fetch(STORE_SQL, [room], [author.id], [BODY], [None])
        await self.publisher.publish(room_channel(room), raw_payload(row, room, author))

    async def chatd_history(self, w: int) -> None:
        await self.messaging.history(room_id=self.rooms[w], reader=self.users[w])

    async def raw_history(self, w: int) -> None:
        room = self.rooms[w]
        if not await self.pool.fetchval(MEMBER_SQL, room, self.users[w].id):
            raise RuntimeError(f"user {self.users[w].id} is not in room {room}")
        await self.pool.fetch(PAGE_BELOW_SQL, room, NO_UPPER_BOUND, DEFAULT_PAGE)

    def op(self, case: Case, side: str) -> Op:
        return getattr(self, f"{side}_{case.kind}")


def raw_payload(row: asyncpg.Record, room: int, author: User) -> str:
    """What RedisBus publishes for a new message (chatd.infrastructure.channels.bus_payload),
    built straight from the stored row."""
    message = {
        "id": row["id"],
        "room_id": room,
        "seq": row["seq"],
        "kind": "user",
        "author": {
            "id": author.id,
            "username": author.username,
            "created_at": author.created_at.isoformat(),
        },
        "body": row["body"],
        "client_id": None,
        "created_at": row["created_at"].isoformat(),
        "edited_at": None,
        "deleted": False,
    }
    header = f"new_message {room} {row['seq']} {author.id}"
    return f'{header}\n{{"type":"new_message","message":{dumps(message)}}}'


async def run_workers(op: Op, concurrency: int, count: int) -> None:
    """`count` operations, worker w (of `concurrency`) doing its share one after another."""

    async def worker(w: int, n: int) -> None:
        for _ in range(n):
            await op(w)

    shares = [count // concurrency + (w < count % concurrency) for w in range(concurrency)]
    await asyncio.gather(*(worker(w, n) for w, n in enumerate(shares)))


async def quiet_tables(pool: asyncpg.Pool) -> None:
    """Autovacuum off for QUIET_TABLES in this run's database."""
    for table in QUIET_TABLES:
        await pool.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")


async def vacuum(pool: asyncpg.Pool) -> None:
    """Vacuum and analyze QUIET_TABLES, so that every run starts from a settled database."""
    await pool.execute(f"VACUUM (ANALYZE) {', '.join(QUIET_TABLES)}")


async def measure(op: Op, case: Case, side: str, round_no: int, count: int) -> Measure:
    """Warm up, then time `count` operations: wall clock and this process's CPU."""
    await run_workers(op, case.concurrency, WARMUP * case.concurrency)
    wall, cpu = time.perf_counter(), time.process_time()
    await run_workers(op, case.concurrency, count)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Measure(case.name, side, round_no, count, wall, cpu)


async def populate(pool: asyncpg.Pool) -> tuple[list[User], list[int]]:
    """One user per room, its owner (so its member), and SEED messages in each room."""
    users_repo, rooms_repo = PgUserRepo(pool), PgRoomRepo(pool)
    users, rooms = [], []
    for n in range(ROOMS):
        user = await users_repo.add(username=f"poster{n}", password_hash=b"-")
        room = await rooms_repo.add(name=f"sendpath-{n}", topic="", owner=user)
        users.append(user)
        rooms.append(room.id)
    seeds = [(room, user.id) for room, user in zip(rooms, users, strict=True)] * SEED
    await pool.fetch(
        STORE_SQL,
        [r for r, _ in seeds],
        [u for _, u in seeds],
        [BODY] * len(seeds),
        [None] * len(seeds),
    )
    return users, rooms


async def same_payload(bench: Bench) -> None:
    """Check that the raw loop publishes what chatd publishes for the same stored message."""
    room, author = bench.rooms[0], bench.users[0]
    [row] = await bench.pool.fetch(STORE_SQL, [room], [author.id], [BODY], [None])
    [message] = await bench.messaging.history(
        room_id=room, reader=author, before_seq=row["seq"] + 1, limit=1
    )
    if bus_payload(MessagePosted(message)) != raw_payload(row, room, author):
        raise RuntimeError("the raw loop's payload differs from chatd's")


async def chatd_app(database_url: str, redis_url: str) -> web.AppRunner:
    """chatd's application started as `chatd serve` starts it, but listening nowhere."""
    settings = Settings(
        database_url=database_url,
        redis_url=redis_url,
        jwt_secret=secrets.token_urlsafe(48),
        message_rate=0,
    )
    runner = web.AppRunner(create_app(settings), handle_signals=False)
    await runner.setup()
    return runner


async def run_rounds(bench: Bench, rounds: int, counts: dict[str, int]) -> list[Measure]:
    """Every case, chatd then raw, each round; progress on stderr."""
    measures = []
    for round_no in range(1, rounds + 1):
        for case in CASES:
            for side in SIDES:
                await vacuum(bench.pool)
                result = await measure(
                    bench.op(case, side), case, side, round_no, counts[case.kind]
                )
                measures.append(result)
                print(
                    f"round {round_no} {case.name:11} {side:5} {result.rate:9.0f}/s "
                    f"cpu {result.cpu_us:6.0f} µs/op",
                    file=sys.stderr,
                    flush=True,
                )
    return measures


async def run(args: argparse.Namespace, services: Services) -> dict:
    """A fresh migrated database, both sides set up on it, every round; then it is dropped."""
    name = f"chatd_sendpath_{uuid.uuid4().hex[:8]}"
    database_url = await create_database(services.database_url, name)
    try:
        await migrate(database_url, Settings().sql_dir)
        runner = await chatd_app(database_url, services.redis_url)
        pool = await create_pool(database_url)
        publisher = redis.Redis.from_url(services.redis_url)
        try:
            await quiet_tables(pool)
            users, rooms = await populate(pool)
            bench = Bench(runner.app[MESSAGING], pool, publisher, users, rooms)
            await same_payload(bench)
            counts = {"send": args.messages, "history": args.reads}
            measures = await run_rounds(bench, args.rounds, counts)
            found = await versions(services, uvloop=False, chatd_source=None)
        finally:
            await publisher.aclose()
            await pool.close()
            await runner.cleanup()
    finally:
        await drop_database(services.database_url, name)
    return results(args, measures, found)


def results(args: argparse.Namespace, measures: list[Measure], found: dict[str, str]) -> dict:
    """What sendpath.json holds: per case the rounds and medians, then every measure."""
    summary = []
    for case in CASES:
        pairs = [
            {m.side: m for m in measures if m.case == case.name and m.round == r}
            for r in range(1, args.rounds + 1)
        ]
        chatd = [p["chatd"] for p in pairs]
        raw = [p["raw"] for p in pairs]
        cpu_chatd = statistics.median(m.cpu_us for m in chatd)
        cpu_raw = statistics.median(m.cpu_us for m in raw)
        summary.append(
            {
                "case": case.name,
                "chatd_per_s": [round(m.rate) for m in chatd],
                "raw_per_s": [round(m.rate) for m in raw],
                "ratios": [round(c.rate / r.rate, 3) for c, r in zip(chatd, raw, strict=True)],
                "median_ratio": round(
                    statistics.median(c.rate / r.rate for c, r in zip(chatd, raw, strict=True)), 3
                ),
                "chatd_cpu_us": round(cpu_chatd, 1),
                "raw_cpu_us": round(cpu_raw, 1),
                "extra_cpu_us": round(cpu_chatd - cpu_raw, 1),
            }
        )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "chatd.bench.sendpath", *args.argv]),
        "options": {"rounds": args.rounds, "messages": args.messages, "reads": args.reads},
        "versions": {k: v for k, v in found.items() if k != "event loops"},
        "summary": summary,
        "measures": [asdict(m) | {"rate": m.rate, "cpu_us": m.cpu_us} for m in measures],
    }


def markdown(found: dict) -> str:
    """The summary as a markdown table (rates: medians of the rounds)."""
    lines = [
        "| case | chatd/s | raw/s | chatd/raw per round | median | CPU µs/op chatd | raw | extra |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for s in found["summary"]:
        ratios = ", ".join(f"{r:.2f}" for r in s["ratios"])
        lines.append(
            f"| {s['case']} | {statistics.median(s['chatd_per_s']):,.0f} "
            f"| {statistics.median(s['raw_per_s']):,.0f} | {ratios} | **{s['median_ratio']:.2f}x** "
            f"| {s['chatd_cpu_us']:.0f} | {s['raw_cpu_us']:.0f} | {s['extra_cpu_us']:+.0f} |"
        )
    return "\n".join(lines)


def parse(argv: list[str]) -> argparse.Namespace:
    """The options, defaults filled in (--quick: one round of 300 operations per run)."""
    parser = argparse.ArgumentParser(prog="python -m chatd.bench.sendpath", description=__doc__)
    add = parser.add_argument
    add("--quick", action="store_true", help="one round of few operations (the suite's check)")
    add("--rounds", type=int, help="A B rounds (default 3; --quick 1)")
    add("--messages", type=int, help="messages per send run (default 3000; --quick 300)")
    add("--reads", type=int, help="history pages per history run (default 3000; --quick 300)")
    add("--database-url", help="a PostgreSQL server (default: embedded)")
    add("--redis-url", help="a Redis (default: embedded)")
    add("--out", type=Path, help="also write sendpath.json here")
    args = parser.parse_args(argv)
    default = 300 if args.quick else 3000
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.messages = args.messages or default
    args.reads = args.reads or default
    args.argv = argv
    return args


def main(argv: list[str] | None = None) -> int:
    """Run against the given or embedded servers; print the table, write --out/sendpath.json."""
    args = parse(sys.argv[1:] if argv is None else list(argv))
    with (
        tempfile.TemporaryDirectory(prefix="chatd-bench-sendpath-") as tmp,
        bench_services(args.database_url, args.redis_url, Path(tmp)) as services,
    ):
        found = asyncio.run(run(args, services))
    print(markdown(found))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "sendpath.json").write_text(json.dumps(found, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
