"""The load generator as the runner sees it: worker processes, one step at a time."""

import asyncio
import contextlib
import multiprocessing
from collections import Counter
from dataclasses import dataclass
from multiprocessing.connection import Connection

from hdrh.histogram import HdrHistogram

from chatd.bench.tally import new_histogram, now_ns
from chatd.bench.wire import ConnSpec
from chatd.bench.worker import SettleOrder, StepOrder, StepReport, WorkerPlan, worker_main

START_LEAD_NS = 300_000_000  # the step starts this long after the order, in every process
OPEN_TIMEOUT = 120.0


@dataclass(frozen=True, slots=True)
class Delivery:
    """One step, all processes merged."""

    histogram: HdrHistogram
    expected: int
    received: int
    duplicates: int
    stale: int
    errors: int
    sent: int
    max_lag_ns: int
    closed: int
    cpu_seconds: float
    seconds: float  # how long the senders sent for


def _receive(conn: Connection, timeout: float) -> object:
    if not conn.poll(timeout):
        raise TimeoutError("a load generator process did not answer")
    kind, value = conn.recv()
    if kind == "error":
        raise RuntimeError(f"load generator process failed:\n{value}")
    return value


class LoadGenerator:
    def __init__(
        self,
        contender: str,
        base_url: str,
        conns: list[ConnSpec],
        *,
        procs: int,
        body_bytes: int,
        cpu: int | None,
    ) -> None:
        """Spread the sockets round-robin over `procs` processes (senders first, so that
        each process gets its share of them)."""
        ordered = sorted(conns, key=lambda spec: spec.sender is None)
        per_room = Counter(spec.room for spec in conns if spec.sender is not None)
        self.senders = sum(per_room.values())
        self.plans = [
            WorkerPlan(
                contender=contender,
                base_url=base_url,
                conns=tuple(ordered[index::procs]),
                senders_per_room=dict(per_room),
                body_bytes=body_bytes,
                cpu=cpu,
            )
            for index in range(procs)
        ]
        self.processes: list[multiprocessing.process.BaseProcess] = []
        self.pipes: list[Connection] = []
        self.step_number = 0

    async def start(self) -> None:
        context = multiprocessing.get_context("spawn")
        for plan in self.plans:
            ours, theirs = context.Pipe()
            process = context.Process(target=worker_main, args=(theirs, plan), daemon=True)
            process.start()
            self.processes.append(process)
            self.pipes.append(ours)
        await self._gather(OPEN_TIMEOUT)

    async def _gather(self, seconds: float) -> list:
        """One answer from every process, waiting at most `seconds` for each."""
        return await asyncio.gather(
            *(asyncio.to_thread(_receive, pipe, seconds) for pipe in self.pipes)
        )

    async def step(self, messages_per_s: float, seconds: float, drain: float) -> Delivery:
        """Offer `messages_per_s` in all (split evenly over the senders) for `seconds`."""
        rate = messages_per_s / self.senders
        count = max(1, round(rate * seconds))
        self.step_number += 1
        order = StepOrder(
            step=self.step_number,
            rate=rate,
            count=count,
            start_ns=now_ns() + START_LEAD_NS,
            senders=self.senders,
            drain_seconds=drain,
        )
        for pipe in self.pipes:
            pipe.send(order)
        reports: list[StepReport] = await self._gather(seconds + drain + 60)
        histogram = new_histogram()
        for report in reports:
            histogram.decode_and_add(report.histogram)
        return Delivery(
            histogram=histogram,
            expected=sum(r.expected for r in reports),
            received=sum(r.received for r in reports),
            duplicates=sum(r.duplicates for r in reports),
            stale=sum(r.stale for r in reports),
            errors=sum(r.errors for r in reports),
            sent=sum(r.sent for r in reports),
            max_lag_ns=max(r.max_lag_ns for r in reports),
            closed=sum(r.closed for r in reports),
            cpu_seconds=sum(r.cpu_seconds for r in reports),
            seconds=count / rate,
        )

    async def settle(self, quiet: float, longest: float) -> float:
        for pipe in self.pipes:
            pipe.send(SettleOrder(quiet, longest))
        return max(await self._gather(longest + 30))

    async def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):
                pipe.send(None)
        for process in self.processes:
            await asyncio.to_thread(process.join, 10)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, 5)
