"""One load-generator process: opens its share of the sockets, then runs steps on command.

Open loop: each sender sends message i at start + offset + i / rate whatever happened before,
and stamps that scheduled time; a sender that finds itself late catches up at once (the late
messages carry their original stamps, so the wait shows up as latency) and reports how late.
"""

import asyncio
import contextlib
import functools
import os
import time
import traceback
from collections.abc import Coroutine
from dataclasses import dataclass
from multiprocessing.connection import Connection

from chatd.bench.rawws import RawWebSocket
from chatd.bench.tally import Link, Tally, now_ns
from chatd.bench.wire import WIRES, ConnSpec, Wire, body

OPENING_AT_ONCE = 32


@dataclass(frozen=True, slots=True)
class WorkerPlan:
    contender: str
    base_url: str
    conns: tuple[ConnSpec, ...]
    senders_per_room: dict[str, int]
    body_bytes: int
    cpu: int | None  # pin this process to it


@dataclass(frozen=True, slots=True)
class StepOrder:
    step: int
    rate: float  # messages/s per sender
    count: int  # messages per sender
    start_ns: int  # CLOCK_MONOTONIC
    senders: int  # in all processes, to stagger them evenly
    drain_seconds: float


@dataclass(frozen=True, slots=True)
class SettleOrder:
    quiet_seconds: float
    max_seconds: float


@dataclass(frozen=True, slots=True)
class StepReport:
    histogram: bytes
    expected: int
    received: int
    duplicates: int
    stale: int
    errors: int
    sent: int
    max_lag_ns: int
    closed: int
    cpu_seconds: float


class Fleet:
    def __init__(self, plan: WorkerPlan) -> None:
        self.plan = plan
        self.wire: Wire = WIRES[plan.contender]
        self.tally = Tally(self.wire)
        self.links: list[tuple[Link, RawWebSocket]] = []

    async def open(self) -> None:
        gate = asyncio.Semaphore(OPENING_AT_ONCE)

        async def one(spec: ConnSpec) -> None:
            async with gate:
                ws = await RawWebSocket.connect(self.wire.url(self.plan.base_url, spec))
                await self.wire.open(ws, spec)
            link = Link(sender=spec.sender, room=spec.room)
            ws.sink = functools.partial(self.tally.frame, link)
            self.links.append((link, ws))

        await asyncio.gather(*(one(spec) for spec in self.plan.conns))

    async def step(self, order: StepOrder) -> StepReport:
        cpu_before = time.process_time()
        per_room = self.plan.senders_per_room
        expected = sum(per_room.get(link.room, 0) for link, _ in self.links) * order.count
        self.tally.begin(order.step, expected, [link for link, _ in self.links])
        sending = [
            self._send(link, ws, order) for link, ws in self.links if link.sender is not None
        ]
        lags = await asyncio.gather(*sending)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.tally.complete.wait(), order.drain_seconds)
        t = self.tally
        return StepReport(
            histogram=t.histogram().encode(),
            expected=t.expected,
            received=t.received,
            duplicates=t.duplicates,
            stale=t.stale,
            errors=t.errors,
            sent=order.count * len(lags),
            max_lag_ns=max(lags, default=0),
            closed=sum(ws.closed for _, ws in self.links),
            cpu_seconds=time.process_time() - cpu_before,
        )

    async def _send(self, link: Link, ws: RawWebSocket, order: StepOrder) -> int:
        assert link.sender is not None
        interval = 1e9 / order.rate
        start = order.start_ns + int(link.sender * interval / order.senders)
        worst = 0
        for seq in range(order.count):
            scheduled = start + int(seq * interval)
            if (wait := scheduled - now_ns()) > 0:
                await asyncio.sleep(wait / 1e9)
            worst = max(worst, now_ns() - scheduled)
            text = body(order.step, link.sender, seq, scheduled, self.plan.body_bytes)
            tag = f"{link.sender}.{order.step}.{seq}"
            if not ws.closed:
                await ws.send_str(self.wire.frame(link.room, text, tag))
        return worst

    async def settle(self, order: SettleOrder) -> float:
        """Wait until nothing has arrived for a while (a failed step's backlog cleared)."""
        began = now_ns()
        while (now := now_ns()) - began < order.max_seconds * 1e9:
            if now - self.tally.last_frame_ns >= order.quiet_seconds * 1e9:
                break
            await asyncio.sleep(order.quiet_seconds / 4)
        return (now_ns() - began) / 1e9

    def close(self) -> None:
        for _, ws in self.links:
            ws.close()


def run_fast(main: Coroutine[object, object, None]) -> None:
    """The generator is the measuring tool: give it uvloop when installed (the servers under
    test all run on plain asyncio unless the run says `--uvloop`)."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def worker_main(conn: Connection, plan: WorkerPlan) -> None:
    """Process entry point: answer ("ready", n) once open, then one reply per order."""
    if plan.cpu is not None:
        os.sched_setaffinity(0, {plan.cpu})
    try:
        run_fast(_serve(conn, plan))
    except Exception:
        conn.send(("error", traceback.format_exc()))


async def _serve(conn: Connection, plan: WorkerPlan) -> None:
    fleet = Fleet(plan)
    try:
        await fleet.open()
        conn.send(("ready", len(fleet.links)))
        while (order := await asyncio.to_thread(conn.recv)) is not None:
            if isinstance(order, StepOrder):
                conn.send(("step", await fleet.step(order)))
            else:
                conn.send(("settled", await fleet.settle(order)))
    finally:
        fleet.close()
        await asyncio.sleep(0.1)  # let the close frames go out
